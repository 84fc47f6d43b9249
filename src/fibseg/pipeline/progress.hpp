#pragma once
// Progress of a long stage: a bar with ETA on a terminal, a plain line every few seconds
// otherwise (log files, CI). Thread-safe: workers call advance() as slices finish.
#include <chrono>
#include <mutex>
#include <ostream>
#include <string>

namespace fibseg::pipeline {

class Progress {
 public:
  /// `terminal`: draw a bar in place; otherwise print a line at most every `lineSeconds`.
  Progress(std::ostream& out, std::string stage, long long total, bool terminal, double lineSeconds = 5.0);
  ~Progress();
  void advance(long long steps = 1);
  /// Ends the bar with the stage's total time; returns it in seconds.
  double finish();

 private:
  void draw(bool final);
  std::ostream& out_;
  std::string stage_;
  long long total_, done_ = 0;
  bool terminal_;
  double lineSeconds_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, lastLine_;
  std::mutex mutex_;
};

/// Seconds from `start` to now (the stages' timings in run.json).
inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// True when stderr is a terminal (and TERM is not "dumb").
bool stderrIsTerminal();

}  // namespace fibseg::pipeline
