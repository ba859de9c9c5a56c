// The real sopd binary as a child process of a harness: on a free loopback
// port, with its data in a directory the harness owns, stopped by any
// signal (kill -9 included). Its stderr is kept in log().
//
// Not thread-safe: one thread starts and stops it (clients may call it from
// any thread meanwhile).
#ifndef SOPSIDEBAR_TESTS_RELIABILITY_SOPD_PROCESS_H_
#define SOPSIDEBAR_TESTS_RELIABILITY_SOPD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace sopsidebar::test {

class SopdProcess {
 public:
  // Starts `sopd` on `data_dir` and waits until it listens.
  // FAILED_PRECONDITION with its output when it exits first; INTERNAL when
  // it cannot be started.
  static absl::StatusOr<std::unique_ptr<SopdProcess>> Start(const std::string& sopd,
                                                            const std::string& data_dir) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe");
    const std::vector<std::string> args = {
        sopd,          "--data-dir",    data_dir,     "--grpc-listen",
        "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return absl::InternalError("fork");
    if (pid == 0) {
      ::dup2(pipe_fds[1], STDERR_FILENO);
      ::execv(sopd.c_str(), argv.data());
      _exit(127);
    }
    ::close(pipe_fds[1]);
    std::unique_ptr<SopdProcess> process(new SopdProcess(pid, pipe_fds[0], data_dir));
    FILE* err = process->stderr_;
    char* line = nullptr;
    size_t capacity = 0;
    while (::getline(&line, &capacity, err) > 0) {
      absl::string_view text(line);
      process->Append(text);
      // "sopd: Connect/HTTP on http://127.0.0.1:PORT/ (...)" comes first.
      const size_t gateway = text.find("Connect/HTTP on http://");
      if (gateway != absl::string_view::npos) {
        absl::string_view rest = text.substr(gateway + 23);
        rest = rest.substr(0, rest.find('/'));
        const size_t colon = rest.rfind(':');
        if (colon == absl::string_view::npos ||
            !absl::SimpleAtoi(rest.substr(colon + 1), &process->http_port_)) {
          process->http_port_ = 0;
        }
      }
      const size_t at = text.find("listening on ");
      if (at != absl::string_view::npos) {
        absl::string_view address = text.substr(at + 13);
        address = address.substr(0, address.find_first_of(" \n"));
        process->address_ = std::string(address);
        break;
      }
    }
    std::free(line);
    if (process->address_.empty()) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      process->pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat(sopd, " exited before listening: ", process->log()));
    }
    process->reader_ = std::thread([p = process.get()] { p->Drain(); });
    return process;
  }

  SopdProcess(const SopdProcess&) = delete;
  SopdProcess& operator=(const SopdProcess&) = delete;
  ~SopdProcess() {
    if (pid_ > 0) Stop(SIGKILL);
    if (reader_.joinable()) reader_.join();
    std::fclose(stderr_);
  }

  // host:port of the gRPC listener.
  const std::string& address() const { return address_; }
  // The port of the Connect/HTTP gateway (/metrics, /readyz), on 127.0.0.1.
  int http_port() const { return http_port_; }
  pid_t pid() const { return pid_; }

  // The bootstrap admin token (written on the first start).
  std::string AdminToken() const {
    std::ifstream in(data_dir_ + "/admin.token");
    std::string token;
    std::getline(in, token);
    return token;
  }

  // Sends `signal` and waits for the exit; the wait status.
  int Stop(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
    return status;
  }

  std::string log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

 private:
  SopdProcess(pid_t pid, int fd, std::string data_dir)
      : pid_(pid), stderr_(::fdopen(fd, "r")), data_dir_(std::move(data_dir)) {}

  void Append(absl::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(text.data(), text.size());
  }

  // Keeps reading stderr so that sopd never blocks on a full pipe.
  void Drain() {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), stderr_)) > 0) {
      Append(absl::string_view(buffer, n));
    }
  }

  pid_t pid_;
  FILE* const stderr_;
  const std::string data_dir_;
  std::string address_;
  int http_port_ = 0;
  std::thread reader_;
  mutable std::mutex mu_;
  std::string log_;
};

}  // namespace sopsidebar::test

#endif  // SOPSIDEBAR_TESTS_RELIABILITY_SOPD_PROCESS_H_
