#include "common/diagram/graphviz.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/utf8.h"

extern char** environ;

namespace sopsidebar {
namespace {

// How much of the program's stderr an error quotes.
constexpr size_t kMaxQuotedStderr = 400;

// Blocks SIGPIPE in this thread for its lifetime; a SIGPIPE raised by a
// write to a pipe whose reader exited is taken (not left pending) before the
// old mask returns.
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocker() {
    if (raised_) {
      const timespec no_wait = {0, 0};
      while (sigtimedwait(&pipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void Raised() { raised_ = true; }

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool raised_ = false;
};

// A file descriptor closed when it goes out of scope (or on Close).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close() { Reset(-1); }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// A pipe whose both ends are close-on-exec: the child gets its end through
// dup2 only, and children other threads start get neither.
absl::Status MakePipe(Fd& read_end, Fd& write_end, absl::string_view program) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return error::GraphvizFailed(program, absl::StrCat("pipe: ", std::strerror(errno)));
  }
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return absl::OkStatus();
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads what is ready on `fd` into `into`; closes `fd` at end of file.
void Drain(Fd& fd, std::string& into) {
  char buffer[65536];
  const ssize_t n = read(fd.get(), buffer, sizeof buffer);
  if (n > 0) {
    into.append(buffer, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    fd.Close();
  }
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// "exit status 1: Error: <stdin>: syntax error in line 1 near '{'".
std::string Failure(int status, const std::string& stderr_text) {
  std::string text = WIFEXITED(status) ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                       : absl::StrCat("killed by signal ", WTERMSIG(status));
  const absl::string_view said = absl::StripAsciiWhitespace(stderr_text);
  if (!said.empty()) {
    absl::StrAppend(&text, ": ", EscapeUnprintable(Utf8Prefix(said, kMaxQuotedStderr)));
  }
  return text;
}

}  // namespace

absl::StatusOr<std::string> RenderWithGraphviz(absl::string_view dot_text, GraphvizOutput output,
                                               const GraphvizOptions& options) {
  const std::string& program = options.program;
  Fd child_in, to_child, from_child, child_out, child_err_from, child_err;
  if (absl::Status s = MakePipe(child_in, to_child, program); !s.ok()) return s;
  if (absl::Status s = MakePipe(from_child, child_out, program); !s.ok()) return s;
  if (absl::Status s = MakePipe(child_err_from, child_err, program); !s.ok()) return s;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_in.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_err.get(), STDERR_FILENO);
  std::string format = output == GraphvizOutput::kSvg ? "-Tsvg" : "-Tpng";
  std::string argv0 = program;
  char* argv[] = {argv0.data(), format.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  child_in.Close();
  child_out.Close();
  child_err.Close();
  if (spawned == ENOENT) return error::GraphvizMissing(program);
  if (spawned != 0) {
    return error::GraphvizFailed(program, absl::StrCat("cannot run it: ", std::strerror(spawned)));
  }

  SigpipeBlocker sigpipe;
  for (const Fd* fd : {&to_child, &from_child, &child_err_from}) SetNonBlocking(fd->get());
  if (dot_text.empty()) to_child.Close();
  size_t written = 0;
  std::string image, stderr_text;
  const absl::Time deadline = absl::Now() + options.timeout;
  while (from_child.open() || child_err_from.open()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      kill(pid, SIGKILL);
      WaitFor(pid);
      return error::GraphvizFailed(
          program, absl::StrCat("did not finish within ", absl::FormatDuration(options.timeout)));
    }
    std::vector<pollfd> fds;
    if (to_child.open()) fds.push_back({to_child.get(), POLLOUT, 0});
    if (from_child.open()) fds.push_back({from_child.get(), POLLIN, 0});
    if (child_err_from.open()) fds.push_back({child_err_from.get(), POLLIN, 0});
    const int wait_ms =
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000));
    if (poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) {
      kill(pid, SIGKILL);
      WaitFor(pid);
      return error::GraphvizFailed(program, absl::StrCat("poll: ", std::strerror(errno)));
    }
    for (const pollfd& ready : fds) {
      if (ready.revents == 0) continue;
      if (ready.fd == to_child.get()) {
        const ssize_t n = write(ready.fd, dot_text.data() + written, dot_text.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 && errno == EPIPE) sigpipe.Raised();
        // Done, or the reader is gone (its exit status says why).
        if (written == dot_text.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          to_child.Close();
        }
      } else if (ready.fd == from_child.get()) {
        Drain(from_child, image);
      } else if (ready.fd == child_err_from.get()) {
        Drain(child_err_from, stderr_text);
      }
    }
  }
  to_child.Close();
  const int status = WaitFor(pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return error::GraphvizFailed(program, Failure(status, stderr_text));
  }
  if (written != dot_text.size()) {
    return error::GraphvizFailed(program, "it exited before reading all of its input");
  }
  return image;
}

}  // namespace sopsidebar
