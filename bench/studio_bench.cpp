// The studio's server-side cost of what the page asks for, end to end through an HTTP client on
// loopback (request, the stage functions, the bytes back), on a phantom run of 2048 x 1536 slices:
//   classical-parameter redraw (POST /api/classical: the pore threshold changes)   target <= 300 ms
//   slice change (GET slice + annotation + labels, nothing cached)                 target <= 150 ms
//   prediction of the current slice with a default model (POST /api/predict)      target <= 1.5 s
// The page's own drawing (bytes -> canvas) is not included. Setup (phantom, `fibseg run`, training)
// takes about a minute the first time; the run is kept in $TMPDIR/fibseg_studio_bench.
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <sys/resource.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "fibseg/config/param_set.hpp"
#include "fibseg/phantom/write_phantom.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/studio/server.hpp"

namespace {
namespace fs = std::filesystem;
using namespace fibseg;

struct Studio {
  std::shared_ptr<studio::Session> session;
  std::unique_ptr<studio::Server> server;
  std::thread thread;
  std::unique_ptr<httplib::Client> client;
  httplib::Headers headers;

  Studio() {
    const fs::path root = fs::temp_directory_path() / "fibseg_studio_bench";
    const fs::path run = root / "run";
    if (!fs::exists(run / "run.json")) {
      fs::remove_all(root);
      phantom::PhantomParams p;
      p.width = 2048;
      p.height = 1536;
      p.slices = 4;
      p.dataBarRows = 0;
      p.steadyDriftX = p.steadyDriftY = p.randomWalk = 0;  // the common area stays 2048 x 1536
      phantom::writePhantom(p, root / "phantom");
      auto params = config::ParamSet::defaults();
      params.set("input.path", (root / "phantom" / "raw").string(), "bench");
      params.set("output.folder", run.string(), "bench");
      params.set("measure.enabled", "false", "bench");
      std::ostringstream log;
      pipeline::runPipeline(params, {.log = &log});
    }
    session = std::make_shared<studio::Session>(run, root / "studio");
    // Strokes for the default model: every 7th pixel of every 5th row of slice 1, phase from the
    // run's labels (the classical path), so every phase is painted.
    if (session->annotatedSlices().empty()) {
      const cv::Mat labels = session->labels(1);
      cv::Mat codes = cv::Mat::zeros(labels.size(), CV_8U);
      for (int y = 0; y < labels.rows; y += 5)
        for (int x = (y / 5) % 7; x < labels.cols; x += 7) codes.at<std::uint8_t>(y, x) = labels.at<std::uint8_t>(y, x) + 1;
      session->saveAnnotation(1, codes, 0);
    }
    session->train({});
    server = std::make_unique<studio::Server>(session, studio::ServerOptions{});
    thread = std::thread([this] { server->run(); });
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_read_timeout(120, 0);  // a prediction on a loaded machine
    headers = {{"X-Fibseg-Token", server->token()}};
    while (!client->Get("/api/info", headers)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~Studio() {
    server->stop();
    thread.join();
  }
};

Studio& studioOnce() {
  static Studio s;
  return s;
}

// CPU seconds of the whole process (client and server threads): on a shared machine the wall time
// also holds other people's work, this does not.
double processCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}
struct CpuCounter {
  benchmark::State& state;
  double start = processCpuSeconds();
  ~CpuCounter() {
    state.counters["process_cpu_ms"] = benchmark::Counter(1e3 * (processCpuSeconds() - start) / std::max<double>(1, state.iterations()));
  }
};

void requireOk(benchmark::State& state, const httplib::Result& res) {
  if (!res || res->status != 200) state.SkipWithError(res ? res->body.c_str() : "no response");
}

void BM_ClassicalRedraw(benchmark::State& state) {
  auto& s = studioOnce();
  CpuCounter cpu{state};
  int i = 0;
  for (auto _ : state) {
    const std::string body = "{\"segment.pore_threshold\": \"" + std::to_string(1200 + 10 * (i++ % 20)) + "\"}";
    requireOk(state, s.client->Post("/api/classical?z=2", s.headers, body, "application/json"));
  }
  state.counters["px"] = s.session->size().area();
}
BENCHMARK(BM_ClassicalRedraw)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SliceChangeUncached(benchmark::State& state) {
  auto& s = studioOnce();
  CpuCounter cpu{state};
  int z = 0;
  for (auto _ : state) {
    state.PauseTiming();
    s.session->reload();  // nothing cached: the page asks for a slice it has not shown
    z = (z + 1) % s.session->slices();
    state.ResumeTiming();
    const std::string q = "?z=" + std::to_string(z);
    requireOk(state, s.client->Get("/api/slice" + q, s.headers));
    requireOk(state, s.client->Get("/api/annotation" + q, s.headers));
    requireOk(state, s.client->Get("/api/labels" + q, s.headers));
  }
}
BENCHMARK(BM_SliceChangeUncached)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SliceChangeCached(benchmark::State& state) {
  auto& s = studioOnce();
  CpuCounter cpu{state};
  int z = 0;
  for (auto _ : state) {
    z = (z + 1) % s.session->slices();
    const std::string q = "?z=" + std::to_string(z);
    requireOk(state, s.client->Get("/api/slice" + q, s.headers));
    requireOk(state, s.client->Get("/api/annotation" + q, s.headers));
    requireOk(state, s.client->Get("/api/labels" + q, s.headers));
  }
}
BENCHMARK(BM_SliceChangeCached)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictSlice(benchmark::State& state) {
  auto& s = studioOnce();
  CpuCounter cpu{state};
  for (auto _ : state) requireOk(state, s.client->Post("/api/predict?z=2", s.headers, "{}", "application/json"));
}
BENCHMARK(BM_PredictSlice)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

}  // namespace
