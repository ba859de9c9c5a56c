// The command line of a durability harness: --name=VALUE flags only, each
// bound to a variable that holds its default. An unknown flag or a bad value
// is named on stderr and fails the parse (the harness exits 2).
//
// Thread-compatible: set up and parse on one thread, before the harness runs.
#ifndef SOPSIDEBAR_TESTS_RELIABILITY_HARNESS_FLAGS_H_
#define SOPSIDEBAR_TESTS_RELIABILITY_HARNESS_FLAGS_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sopsidebar::test {

class HarnessFlags {
 public:
  // `program` names the harness in error messages.
  explicit HarnessFlags(std::string program) : program_(std::move(program)) {}

  // --name=N, a whole number above 0.
  HarnessFlags& Positive(absl::string_view name, int* value) {
    return Add(name, [value](absl::string_view text) {
      return absl::SimpleAtoi(text, value) && *value > 0;
    });
  }
  // --name=N, a whole number of 0 or more (a seed).
  HarnessFlags& Number(absl::string_view name, uint64_t* value) {
    return Add(name, [value](absl::string_view text) { return absl::SimpleAtoi(text, value); });
  }
  // --name=TEXT, any text (a path).
  HarnessFlags& Text(absl::string_view name, std::string* value) {
    return Add(name, [value](absl::string_view text) {
      *value = std::string(text);
      return true;
    });
  }

  // Sets the variables of the flags in argv[1..]. False, after naming the
  // flag on stderr, on one that is unknown or has a bad value.
  bool Parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      const absl::string_view arg = argv[i];
      bool ok = false;
      for (const Flag& flag : flags_) {
        if (absl::StartsWith(arg, flag.prefix)) {
          ok = flag.set(arg.substr(flag.prefix.size()));
          break;
        }
      }
      if (!ok) {
        std::fprintf(stderr, "%s: bad flag %s (see the usage at the top of its source)\n",
                     program_.c_str(), argv[i]);
        return false;
      }
    }
    return true;
  }

 private:
  struct Flag {
    std::string prefix;  // "--rounds="
    std::function<bool(absl::string_view)> set;
  };

  HarnessFlags& Add(absl::string_view name, std::function<bool(absl::string_view)> set) {
    flags_.push_back({absl::StrCat("--", name, "="), std::move(set)});
    return *this;
  }

  std::string program_;
  std::vector<Flag> flags_;
};

}  // namespace sopsidebar::test

#endif  // SOPSIDEBAR_TESTS_RELIABILITY_HARNESS_FLAGS_H_
