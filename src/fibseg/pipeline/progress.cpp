#include "fibseg/pipeline/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fibseg::pipeline {

namespace {
std::string clock(double seconds) {
  char text[32];
  const long s = long(seconds + 0.5);
  if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}
}  // namespace

bool stderrIsTerminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
}

Progress::Progress(std::ostream& out, std::string stage, long long total, bool terminal, double lineSeconds)
    : out_(out), stage_(std::move(stage)), total_(total), terminal_(terminal), lineSeconds_(lineSeconds),
      start_(std::chrono::steady_clock::now()), lastLine_(start_) {
  if (!terminal_) out_ << stage_ << ": " << total_ << " slices\n" << std::flush;
}

Progress::~Progress() {
  if (!finished_ && terminal_) out_ << "\n";
}

void Progress::advance(long long steps) {
  std::lock_guard lock(mutex_);
  done_ += steps;
  draw(false);
}

double Progress::finish() {
  std::lock_guard lock(mutex_);
  const double seconds = secondsSince(start_);
  if (!finished_) {
    finished_ = true;
    draw(true);
  }
  return seconds;
}

void Progress::draw(bool final) {
  const double elapsed = secondsSince(start_);
  const double eta = done_ > 0 ? elapsed * double(total_ - done_) / double(done_) : 0;
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  char tail[96];
  if (final) std::snprintf(tail, sizeof tail, "done in %s (%.1f slices/s)", clock(elapsed).c_str(), rate);
  else std::snprintf(tail, sizeof tail, "ETA %s (%.1f slices/s)", clock(eta).c_str(), rate);
  if (terminal_) {
    constexpr int width = 30;
    const int filled = total_ > 0 ? int(width * done_ / total_) : width;
    out_ << "\r" << stage_ << " [" << std::string(filled, '#') << std::string(width - filled, '.') << "] "
         << done_ << "/" << total_ << " " << tail << "\033[K" << (final ? "\n" : "") << std::flush;
  } else if (final || secondsSince(lastLine_) >= lineSeconds_) {
    lastLine_ = std::chrono::steady_clock::now();
    out_ << stage_ << ": " << done_ << "/" << total_ << " " << tail << "\n" << std::flush;
  }
}

}  // namespace fibseg::pipeline
