// `fibseg studio RUN_FOLDER | PARAMS`: the browser studio (studio/server.hpp) on this machine's
// loopback address. With a parameter file, the run is made first (read, register, correct,
// segment, with progress), unless its output folder already holds one.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/studio/server.hpp"

extern char** environ;

namespace fibseg::cli {
namespace fs = std::filesystem;

namespace {

// The run folder to open: `target` itself, or the output folder of the parameter file `target`
// (run first when it holds no completed run).
fs::path runFolderFor(const fs::path& target, const std::vector<std::string>& overrides) {
  if (fs::is_directory(target)) return fs::absolute(target);
  if (!fs::is_regular_file(target))
    throw Error("studio: " + target.string() + " does not exist; expected a run folder or a parameter file");
  const auto params = config::loadParameters(target, overrides);
  const fs::path output = params.text("output.folder");
  if (fs::is_regular_file(output / "run.json")) {
    std::cerr << "studio: " << output.string() << " holds a completed run; opening it (run `fibseg run` to redo it)\n";
    return output;
  }
  std::cerr << "studio: reading and registering the slices of " << params.text("input.path") << " into "
            << output.string() << "\n";
  pipeline::runPipeline(params, {.log = &std::cerr, .terminal = pipeline::stderrIsTerminal()});
  return output;
}

void openInBrowser(const std::string& url) {
  std::vector<std::string> args = {"xdg-open", url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "xdg-open", nullptr, nullptr, argv.data(), environ) != 0) {
    std::cerr << "studio: could not start xdg-open; open the address above yourself\n";
    return;
  }
  std::thread([pid] { waitpid(pid, nullptr, 0); }).detach();
}

}  // namespace

void addStudioCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("studio", "Look through a run's stack, paint strokes, train and tune with live "
                                           "previews, in the browser (a local server with a one-time token)");
  struct Options {
    std::string target, annotations;
    std::vector<std::string> overrides;
    int port = 0;
    bool open = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("TARGET", o->target, "A run folder of `fibseg run`, or a parameter file (.toml/.xlsx): its run "
                                       "is made first when its output folder holds none")->required();
  cmd->add_option("--port", o->port, "Port on 127.0.0.1 (0 = any free port, printed)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_flag("--open", o->open, "Open the address in the default browser (xdg-open)");
  cmd->add_option("--annotations", o->annotations,
                  "Folder for the studio's strokes, models and parameter files (default RUN_FOLDER/studio)");
  cmd->add_option("--set", o->overrides, "With a parameter file: override one parameter, section.key=value");
  cmd->callback([o] {
    // Ctrl+C and SIGTERM stop the server through a waiting thread (not in a signal handler).
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    const fs::path run = runFolderFor(o->target, o->overrides);
    const fs::path studioFolder = o->annotations.empty() ? run / "studio" : fs::absolute(o->annotations);
    auto session = std::make_shared<studio::Session>(run, studioFolder);
    studio::Server server(session, {.port = o->port});
    std::cout << "fibseg studio: " << run.string() << " (" << session->slices() << " slices of "
              << session->size().width << "x" << session->size().height << "); strokes, models and parameter "
              << "files go to " << studioFolder.string() << "\n"
              << "open " << server.url() << "\n"
              << "(listening on 127.0.0.1 port " << server.port() << " only; Ctrl+C stops)\n"
              << std::flush;
    if (o->open) openInBrowser(server.url());
    std::thread stopper([&server, stopSignals] {
      int signal = 0;
      sigwait(&stopSignals, &signal);
      server.stop();
    });
    server.run();
    // Ended by a signal: the stopper has returned. Ended otherwise: wake it.
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    std::cout << "fibseg studio: stopped\n";
  });
}

}  // namespace fibseg::cli
