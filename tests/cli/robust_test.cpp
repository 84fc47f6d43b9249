// Runs that survive crashes, full disks and concurrent runs (issue 16): the output folder holds
// one whole run at every moment, checked against its run.json after kill -9 at random moments
// and at every step of the switch-in; a file-size limit mid-run is a clear error that leaves
// the previous run; inputs are never written.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "cli/run_cli.hpp"
#include "fibseg/pipeline/output_folder.hpp"

namespace fs = std::filesystem;
using fibseg::pipeline::checkOutputFolder;
using fibseg::pipeline::FolderState;
using testing::HasSubstr;

namespace {

using fibseg::test::Workspace;

struct Launch {
  std::vector<std::string> arguments;
  fs::path log;
  std::map<std::string, std::string> environment;
  long fileSizeLimit = -1;  // bytes (RLIMIT_FSIZE), as `ulimit -f` sets it
};

/// Starts `fibseg <arguments>` with stdout and stderr into `log`; returns its pid.
pid_t start(const Launch& launch) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(launch.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (const auto& [name, value] : launch.environment) ::setenv(name.c_str(), value.c_str(), 1);
    if (launch.fileSizeLimit >= 0) {
      // Ignored SIGXFSZ: a write past the limit fails with EFBIG, as on a full disk, instead
      // of killing the process.
      ::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{static_cast<rlim_t>(launch.fileSizeLimit), static_cast<rlim_t>(launch.fileSizeLimit)};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    std::vector<char*> argv{const_cast<char*>(FIBSEG_CLI)};
    for (const auto& a : launch.arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(FIBSEG_CLI, argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Exit code, or 128 + signal.
int wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

using fibseg::test::readFile;

int run(Launch launch) { return wait(start(launch)); }

/// Every file under `folder` (hidden ones too) with its SHA-256.
std::map<std::string, std::string> checksums(const fs::path& folder) {
  std::map<std::string, std::string> sums;
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    sums[fs::relative(entry.path(), folder).string()] =
        entry.is_regular_file() ? fibseg::pipeline::sha256OfFile(entry.path()) : "folder";
  return sums;
}

/// A small phantom and a config that runs it into w/out.
fs::path makeProject(const Workspace& w, int slices, int width, int height) {
  EXPECT_EQ(run({{"phantom", (w.path / "ph").string(), "--slices", std::to_string(slices), "--width",
                  std::to_string(width), "--height", std::to_string(height)},
                 w.path / "phantom.log"}),
            0);
  std::ofstream(w.path / "p.toml") << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"out\"\n[measure]\ntortuosity = false\nsizes = false\n";
  return w.path / "p.toml";
}

std::vector<std::string> runArguments(const fs::path& config, std::vector<std::string> extra = {}) {
  std::vector<std::string> arguments{"run", config.string()};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

}  // namespace

TEST(Robust, KilledAtRandomMomentsTheFolderIsAlwaysOneWholeRun) {
  Workspace w("kill");
  const fs::path config = makeProject(w, 16, 192, 160);
  const fs::path out = w.path / "out";
  ASSERT_EQ(run({runArguments(config, {"--set", "align.write_aligned=true"}), w.path / "first.log"}), 0)
      << readFile(w.path / "first.log");
  // How long a run that replaces another takes: the kills fall over all of it and a bit past.
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_EQ(run({runArguments(config, {"--overwrite"}), w.path / "second.log"}), 0) << readFile(w.path / "second.log");
  const double runSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ASSERT_EQ(checkOutputFolder(out).state, FolderState::Complete) << checkOutputFolder(out).detail;

  std::mt19937 random(16);
  std::uniform_real_distribution<double> moment(0.05 * runSeconds, 1.3 * runSeconds);
  std::string lastRun = readFile(out / "run.json");
  int consistent = 0, previousWhole = 0, newWhole = 0, marked = 0, cleanedUp = 0;
  const int trials = 24;
  for (int trial = 0; trial < trials; ++trial) {
    const bool leftovers = fs::exists(out / ".fibseg-staging");
    const bool halfSwitched = fs::exists(out / ".fibseg-switching");
    const fs::path log = w.path / ("trial" + std::to_string(trial) + ".log");
    // Alternate the outputs written (aligned.tif or not), so a mix of two runs would show.
    const pid_t pid = start({runArguments(config, {"--overwrite", "--set",
                                                   std::string("align.write_aligned=") + (trial % 2 ? "true" : "false")}),
                             log});
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(random)));
    ::kill(pid, SIGKILL);
    wait(pid);

    const auto check = checkOutputFolder(out);
    if (check.state == FolderState::Complete) {
      const std::string now = readFile(out / "run.json");
      (now == lastRun ? previousWhole : newWhole)++;
      lastRun = now;
      ++consistent;
    } else if (check.state == FolderState::Incomplete) {
      ++marked;
      ++consistent;
    } else {
      ADD_FAILURE() << "trial " << trial << ": " << check.detail;
    }
    // A run that got as far as saying what it runs has first cleaned up and said so.
    const std::string said = readFile(log);
    if (said.find("fibseg run:") != std::string::npos) {
      if (leftovers) {
        EXPECT_THAT(said, HasSubstr("removed")) << "trial " << trial;
      }
      if (halfSwitched) {
        EXPECT_THAT(said, HasSubstr("finishing the switch-in")) << "trial " << trial;
      }
      cleanedUp += leftovers || halfSwitched;
    }
  }
  std::cout << trials << " kill -9 trials (run " << runSeconds << " s): " << consistent << " consistent ("
            << previousWhole << " previous run whole, " << newWhole << " new run whole, " << marked
            << " marked incomplete); " << cleanedUp << " later runs removed leftovers\n";
  EXPECT_EQ(consistent, trials);

  // The next run cleans up whatever the last kill left and leaves one whole run.
  ASSERT_EQ(run({runArguments(config, {"--overwrite"}), w.path / "last.log"}), 0) << readFile(w.path / "last.log");
  EXPECT_EQ(checkOutputFolder(out).state, FolderState::Complete) << checkOutputFolder(out).detail;
  for (const auto& entry : fs::directory_iterator(out))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".")) << entry.path() << " left behind";
}

TEST(Robust, KilledAtEveryStepOfTheSwitchInTheNextRunFinishesIt) {
  Workspace w("switch");
  const fs::path config = makeProject(w, 4, 128, 96);
  const fs::path out = w.path / "out";
  ASSERT_EQ(run({runArguments(config), w.path / "first.log"}), 0);
  int steps = 0;
  for (int step = 1;; ++step) {
    // Every other run without aligned.tif, so the previous and the new run differ in their files.
    const std::string aligned = std::string("align.write_aligned=") + (step % 2 ? "false" : "true");
    const int code = run({runArguments(config, {"--overwrite", "--set", aligned}), w.path / "killed.log",
                          {{"FIBSEG_TEST_KILL_AFTER_MOVES", std::to_string(step)}}});
    if (code == 0) break;  // past the last step: the run completed
    ASSERT_EQ(code, 128 + SIGKILL) << readFile(w.path / "killed.log");
    ++steps;
    const auto check = checkOutputFolder(out);
    EXPECT_TRUE(check.state == FolderState::Incomplete || check.state == FolderState::Complete)
        << "step " << step << ": " << check.detail;
    // The staged run.json (or, once moved in, the folder's) is the run that must come out whole.
    const fs::path staged = out / ".fibseg-switching" / "run.json";
    const std::string expected = readFile(fs::exists(staged) ? staged : out / "run.json");

    // A run without --overwrite finishes the switch, then refuses to replace the run it finished.
    EXPECT_EQ(run({runArguments(config), w.path / "recover.log"}), 1);
    const std::string said = readFile(w.path / "recover.log");
    EXPECT_THAT(said, HasSubstr("already holds a run")) << "step " << step;
    if (fs::exists(staged) || check.state == FolderState::Incomplete) {
      EXPECT_THAT(said, HasSubstr("finishing the switch-in")) << "step " << step;
    }
    EXPECT_EQ(checkOutputFolder(out).state, FolderState::Complete) << "step " << step << ": " << checkOutputFolder(out).detail;
    EXPECT_EQ(readFile(out / "run.json"), expected) << "step " << step;
    EXPECT_EQ(fs::exists(out / "aligned.tif"), step % 2 == 0) << "step " << step;
  }
  std::cout << "killed at each of " << steps << " steps of the switch-in; each finished by the next run\n";
  EXPECT_GE(steps, 5);
  EXPECT_EQ(checkOutputFolder(out).state, FolderState::Complete);
}

TEST(Robust, ASecondRunIntoTheSameFolderRefusesAndAStaleLockDoesNot) {
  Workspace w("lock");
  const fs::path config = makeProject(w, 3, 96, 80);
  const fs::path out = w.path / "out";
  ASSERT_EQ(run({runArguments(config), w.path / "first.log"}), 0);
  const auto before = checksums(out);

  // A run under way holds an flock on .fibseg.lock (here: this test, as pid 4242).
  const int fd = ::open((out / ".fibseg.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  ASSERT_EQ(::write(fd, "pid 4242\n", 9), 9);
  EXPECT_EQ(run({runArguments(config, {"--overwrite"}), w.path / "second.log"}), 1);
  EXPECT_THAT(readFile(w.path / "second.log"), HasSubstr("is in use by another fibseg run (pid 4242)"));
  auto now = checksums(out);
  now.erase(".fibseg.lock");
  auto expected = before;
  EXPECT_EQ(now, expected);

  // The holder dies: the kernel drops its flock, the file stays, and the next run goes ahead.
  ::close(fd);
  ASSERT_EQ(run({runArguments(config, {"--overwrite"}), w.path / "third.log"}), 0) << readFile(w.path / "third.log");
  EXPECT_EQ(checkOutputFolder(out).state, FolderState::Complete);
  EXPECT_FALSE(fs::exists(out / ".fibseg.lock"));
}

TEST(Robust, AFileSizeLimitMidRunIsAClearErrorAndLeavesThePreviousRun) {
  Workspace w("full");
  const fs::path config = makeProject(w, 12, 256, 192);
  const fs::path out = w.path / "out";
  ASSERT_EQ(run({runArguments(config), w.path / "first.log"}), 0);
  const auto before = checksums(out);
  // Slices are 256x192 = 48 kB: the small outputs fit, the 12-slice stacks do not.
  for (const long limit : {100'000L, 400'000L}) {
    Launch launch{runArguments(config, {"--overwrite", "--set", "align.write_aligned=true"}), w.path / "full.log"};
    launch.fileSizeLimit = limit;
    EXPECT_EQ(run(launch), 1) << readFile(w.path / "full.log");
    const std::string said = readFile(w.path / "full.log");
    EXPECT_THAT(said, testing::ContainsRegex("(corrected|aligned|labels)\\.tif.*(write failed|File too large)")) << said;
    EXPECT_EQ(checksums(out), before) << "limit " << limit << ": the previous run changed or a file was left";
  }
}

TEST(Robust, InputsAreNeverWrittenByRunsThatSucceedOrFail) {
  Workspace w("inputs");
  const fs::path config = makeProject(w, 6, 160, 128);
  const auto before = checksums(w.path / "ph");
  ASSERT_EQ(run({runArguments(config), w.path / "a.log"}), 0);
  EXPECT_EQ(run({runArguments(config, {"--from", "segment"}), w.path / "b.log"}), 0);
  Launch full{runArguments(config, {"--overwrite"}), w.path / "c.log"};
  full.fileSizeLimit = 50'000;
  EXPECT_EQ(run(full), 1);                                                                     // failed mid-run
  EXPECT_EQ(run({runArguments(config, {"--overwrite", "--set", "segment.pore_treshold=5"}), w.path / "d.log"}), 1);  // failed up front
  const pid_t killed = start({runArguments(config, {"--overwrite"}), w.path / "e.log"});
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ::kill(killed, SIGKILL);
  wait(killed);
  // Output into the input folder, or inside it, is refused before anything is written.
  std::ofstream(w.path / "inside.toml") << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"ph/raw/out\"\n";
  EXPECT_EQ(run({{"run", (w.path / "inside.toml").string()}, w.path / "f.log"}), 1);
  EXPECT_THAT(readFile(w.path / "f.log"), HasSubstr("inside the input folder"));
  EXPECT_EQ(checksums(w.path / "ph"), before);
}
