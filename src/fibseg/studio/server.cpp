#include "fibseg/studio/server.hpp"

#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "fibseg/config/param_set.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/studio/assets.hpp"
#include "fibseg/studio/paths.hpp"

namespace fibseg::studio {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string randomToken() {
  std::random_device source;  // getrandom(2) / /dev/urandom on Linux
  std::string token;
  char hex[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(source()));
    token += hex;
  }
  return token;
}

namespace {

// Comparison whose time does not depend on where the strings first differ.
bool sameToken(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string cookieToken(const std::string& cookies) {
  static const std::regex pattern("(?:^|;\\s*)fibseg_token=([0-9a-f]+)");
  std::smatch m;
  return std::regex_search(cookies, m, pattern) ? m[1].str() : std::string();
}

int intParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) throw Error(std::string("studio: request lacks ") + name);
  const std::string text = req.get_param_value(name);
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return value;
  } catch (const std::exception&) {
    throw Error(std::string("studio: ") + name + " = '" + text + "'; expected a whole number");
  }
}

Overrides overridesFrom(const std::string& body) {
  Overrides out;
  if (body.empty()) return out;
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) throw Error("studio: parameters are not a JSON object");
  for (const auto& [name, value] : j.items())
    out[name] = value.is_string() ? value.get<std::string>() : value.dump();
  return out;
}

// An image's bytes as the page reads them: rows top to bottom, 1 or 2 (little-endian) bytes per pixel.
void sendImage(httplib::Response& res, const cv::Mat& image, json info = json::object()) {
  info["width"] = image.cols;
  info["height"] = image.rows;
  info["bytesPerPixel"] = static_cast<int>(image.elemSize());
  const cv::Mat continuous = image.isContinuous() ? image : image.clone();
  res.set_header("X-Fibseg-Info", info.dump());
  res.set_content(std::string(reinterpret_cast<const char*>(continuous.data), continuous.total() * continuous.elemSize()),
                  "application/octet-stream");
}

void sendJson(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

const char* contentType(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".png") return "image/png";
  if (ext == ".csv" || ext == ".toml" || ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  return "application/octet-stream";
}

// Splits what the pipeline writes to its log (a terminal's bar: "\rstage [###...] 3/8 ...")
// into lines for the job's progress.
class LineSink : public std::streambuf {
 public:
  explicit LineSink(std::function<void(const std::string&)> line) : line_(std::move(line)) {}
  ~LineSink() override { flushLine(); }

 protected:
  int overflow(int c) override {
    if (c == EOF) return 0;
    if (c == '\r' || c == '\n') flushLine();
    else current_ += static_cast<char>(c);
    return c;
  }

 private:
  void flushLine() {
    if (!current_.empty()) line_(current_);
    current_.clear();
  }
  std::function<void(const std::string&)> line_;
  std::string current_;
};

}  // namespace

// The one background job (train, tune or run) and what the page polls.
struct Server::State {
  std::mutex mutex;
  std::thread worker;
  std::string kind, stage, message, error;
  json result = json::object();
  double progress = 0;
  bool running = false;
  int generation = 0;  // counts finished jobs: the page waits for it to move

  json toJson() {
    std::lock_guard lock(mutex);
    return {{"kind", kind},       {"stage", stage},   {"message", message}, {"error", error},
            {"result", result},   {"progress", progress}, {"running", running}, {"generation", generation}};
  }
  // Starts `work` unless a job runs (false then). `work` returns its result.
  bool start(const std::string& what, std::function<json(State&)> work) {
    std::lock_guard lock(mutex);
    if (running) return false;
    if (worker.joinable()) worker.join();
    kind = what;
    running = true;
    progress = 0;
    stage = message = error = "";
    result = json::object();
    worker = std::thread([this, work = std::move(work)] {
      json out;
      std::string failure;
      try {
        out = work(*this);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      std::lock_guard lock(mutex);
      result = out.is_null() ? json::object() : out;
      error = failure;
      progress = failure.empty() ? 1 : progress;
      running = false;
      ++generation;
    });
    return true;
  }
  void report(const std::string& line) {
    // "segment  [#####.....] 3/8 ..." (terminal bar) or "segment : 3/8 ..." (plain line)
    static const std::regex bar("^\\s*([A-Za-z][A-Za-z ]*?)\\s*(?:\\[[#.]*\\]|:)\\s*(\\d+)/(\\d+)");
    std::smatch m;
    std::lock_guard lock(mutex);
    message = line;
    if (std::regex_search(line, m, bar)) {
      stage = m[1].str();
      const double total = std::stod(m[3].str());
      progress = total > 0 ? std::stod(m[2].str()) / total : 0;
    }
  }
  ~State() {
    if (worker.joinable()) worker.join();
  }
};

Server::Server(std::shared_ptr<Session> session, ServerOptions options)
    : session_(std::move(session)), http_(std::make_unique<httplib::Server>()), state_(std::make_unique<State>()),
      host_(options.host), token_(options.token.empty() ? randomToken() : options.token) {
  if (host_ != "127.0.0.1" && host_ != "::1")
    throw Error("studio: host " + host_ + " refused; the studio listens on the loopback address only (127.0.0.1 or ::1)");
  auto& http = *http_;
  // One annotation (a byte per pixel) plus room for headers: nothing the page sends is larger.
  const std::size_t maxBody = std::size_t(session_->size().area()) + (64u << 10);
  http.set_payload_max_length(maxBody);
  // A client that declares more than it sends holds a worker this long (loopback: bodies arrive at once).
  http.set_read_timeout(2, 0);

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::string given = req.has_param("token") ? req.get_param_value("token") : "";
    if (given.empty()) given = req.get_header_value("X-Fibseg-Token");
    if (given.empty()) given = cookieToken(req.get_header_value("Cookie"));
    if (!sameToken(given, token_)) {
      res.status = 403;
      res.set_content("fibseg studio: this address needs the token printed when the studio started\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Pages of other sites cannot read these responses, nor frame the studio.
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Cache-Control", "no-store");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    sendJson(res, {{"error", what}}, 400);
  });

  http.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    // The cookie lets the report's links (plain <a href>) carry the token too.
    res.set_header("Set-Cookie", "fibseg_token=" + token_ + "; Path=/; HttpOnly; SameSite=Strict");
    res.set_content(assets::indexHtml(), "text/html; charset=utf-8");
  });
  http.Get("/studio.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(assets::studioJs(), "text/javascript; charset=utf-8");
  });
  http.Get("/studio.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(assets::studioCss(), "text/css; charset=utf-8");
  });

  http.Get("/api/info", [this](const httplib::Request&, httplib::Response& res) {
    const auto params = session_->parameters();
    const PhaseSet phases = session_->phases();
    json p = json::array();
    for (int i = 0; i < phases.count(); ++i)
      p.push_back({{"name", phases.names[i]},
                   {"value", phases.values[i]},
                   {"colour", {phases.coloursRgb[i][0], phases.coloursRgb[i][1], phases.coloursRgb[i][2]}}});
    json sliders = json::object();
    for (const char* name : {"segment.otsu_offset", "segment.gabor_lambda", "segment.gabor_theta", "segment.gabor_sigma",
                             "segment.gabor_gamma", "segment.pore_threshold"}) {
      const auto& spec = params.spec(name);
      sliders[name] = {{"value", config::formatValue(params.resolved(name).value)},
                       {"unit", spec.unit},
                       {"description", spec.description},
                       {"min", spec.min ? json(*spec.min) : json()},
                       {"max", spec.max ? json(*spec.max) : json()}};
    }
    sendJson(res, {{"runFolder", session_->runFolder().string()},
                   {"studioFolder", session_->studioFolder().string()},
                   {"slices", session_->slices()},
                   {"width", session_->size().width},
                   {"height", session_->size().height},
                   {"bitDepth", session_->bitDepth()},
                   {"rawSlices", session_->rawSlices()},
                   {"hasLabels", fs::is_regular_file(session_->runFolder() / "labels.tif")},
                   {"method", params.text("segment.method")},
                   {"phases", p},
                   {"classicalPhases", phases.isClassicalThree()},
                   {"sliders", sliders},
                   {"annotated", session_->annotatedSlices()},
                   {"hasModel", session_->hasModel()}});
  });
  http.Get("/api/slice", [this](const httplib::Request& req, httplib::Response& res) {
    const int z = intParam(req, "z");
    const bool raw = req.has_param("view") && req.get_param_value("view") == "raw";
    sendImage(res, raw ? session_->rawSlice(z) : session_->slice(z), {{"z", z}, {"view", raw ? "raw" : "aligned"}});
  });
  http.Get("/api/labels", [this](const httplib::Request& req, httplib::Response& res) {
    const cv::Mat labels = session_->labels(intParam(req, "z"));
    if (labels.empty()) return sendJson(res, {{"error", "the run wrote no labels.tif"}}, 404);
    sendImage(res, labels);
  });
  http.Get("/api/reslice", [this](const httplib::Request& req, httplib::Response& res) {
    sendImage(res, session_->reslice(req.get_param_value("axis"), intParam(req, "at")));
  });
  http.Get("/api/annotation", [this](const httplib::Request& req, httplib::Response& res) {
    const Annotation a = session_->annotation(intParam(req, "z"));
    sendImage(res, a.codes, {{"revision", a.revision}});
  });
  http.Put("/api/annotation", [this](const httplib::Request& req, httplib::Response& res) {
    const int z = intParam(req, "z"), revision = intParam(req, "revision");
    const cv::Size size = session_->size();
    if (req.body.size() != std::size_t(size.area()))
      return sendJson(res, {{"error", "annotation of " + std::to_string(req.body.size()) + " bytes; expected " +
                                          std::to_string(size.area()) + " (one per pixel)"}},
                      400);
    const cv::Mat codes(size, CV_8U, const_cast<char*>(req.body.data()));
    try {
      sendJson(res, {{"revision", session_->saveAnnotation(z, codes.clone(), revision)}});
    } catch (const StaleRevision& stale) {
      // Another tab saved this slice since this one loaded it: its strokes are kept, this save is refused.
      sendJson(res, {{"error", "slice " + std::to_string(z) + " was saved elsewhere (revision " +
                                   std::to_string(stale.current) + ") since this page loaded it; reload the slice"},
                     {"revision", stale.current}},
               409);
    }
  });
  http.Post("/api/classical", [this](const httplib::Request& req, httplib::Response& res) {
    const auto preview = session_->classical(intParam(req, "z"), overridesFrom(req.body));
    sendImage(res, preview.labels, {{"fractions", preview.fractions}, {"camThreshold", preview.camThreshold}});
  });
  http.Post("/api/predict", [this](const httplib::Request& req, httplib::Response& res) {
    const auto view = session_->predict(intParam(req, "z"), overridesFrom(req.body));
    // Three planes, one after the other: labels, highest probability x 255, uncertainty x 255.
    cv::Mat planes;
    cv::vconcat(std::vector<cv::Mat>{view.labels, view.probability, view.uncertainty}, planes);
    sendImage(res, planes,
              {{"planes", 3}, {"uncertainty", "margin between the two likeliest phases (1 - (p1 - p2))"}});
  });
  http.Post("/api/train", [this](const httplib::Request& req, httplib::Response& res) {
    const Overrides overrides = overridesFrom(req.body);
    const bool started = state_->start("train", [this, overrides](State&) {
      session_->train(overrides);
      return json{{"trained", session_->annotatedSlices()}};
    });
    sendJson(res, {{"started", started}}, started ? 202 : 409);
  });
  http.Post("/api/tune", [this](const httplib::Request& req, httplib::Response& res) {
    const int z = intParam(req, "z");
    const Overrides overrides = overridesFrom(req.body);
    const bool started = state_->start("tune", [this, z, overrides](State&) {
      const auto result = session_->tune(z, overrides);
      const auto& b = result.best;
      return json{{"segment.gabor_kernel_size", b.gabor.kernelSize}, {"segment.gabor_sigma", b.gabor.sigma},
                  {"segment.gabor_theta", b.gabor.thetaDeg},         {"segment.gabor_lambda", b.gabor.lambda},
                  {"segment.gabor_gamma", b.gabor.gamma},            {"segment.gabor_psi", b.gabor.psiDeg},
                  {"segment.pore_threshold", b.threshold},           {"score", b.score},
                  {"candidates", result.candidates.size()}};
    });
    sendJson(res, {{"started", started}}, started ? 202 : 409);
  });
  http.Post("/api/model", [this](const httplib::Request& req, httplib::Response& res) {
    const auto [model, params] = session_->saveModel(overridesFrom(req.body));
    sendJson(res, {{"model", model.string()}, {"parameters", params.string()}});
  });
  http.Post("/api/run", [this](const httplib::Request& req, httplib::Response& res) {
    const auto [file, params] = session_->saveParameters(overridesFrom(req.body));
    const bool started = state_->start("run", [this, params = params, file = file](State& state) {
      LineSink sink([&state](const std::string& line) { state.report(line); });
      std::ostream log(&sink);
      // The same run as `fibseg run studio/params.toml --from segment --overwrite`: the aligned
      // stack is reused when nothing before segmentation changed.
      const auto summary = pipeline::runPipeline(params, {.from = "segment", .overwrite = true, .log = &log, .terminal = true});
      session_->reload();
      const fs::path report = summary.outputFolder / "report.html";
      json out{{"parameters", file.string()}, {"outputFolder", summary.outputFolder.string()}, {"seconds", summary.seconds}};
      const auto inside = resolveInside(session_->runFolder(), "report.html");
      if (fs::equivalent(summary.outputFolder, session_->runFolder()) && inside) out["report"] = "/files/report.html";
      return out;
    });
    sendJson(res, {{"started", started}, {"parameters", file.string()}}, started ? 202 : 409);
  });
  http.Get("/api/job", [this](const httplib::Request&, httplib::Response& res) { sendJson(res, state_->toJson()); });

  // Files of the run folder (the report and its pictures), read-only.
  http.Get(R"(/files/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    // The target as sent, before the server decoded it: an encoded byte in a file path is refused.
    const std::string target = req.target.substr(0, req.target.find('?'));
    const auto file = target.find('%') == std::string::npos ? resolveInside(session_->runFolder(), req.matches[1].str())
                                                            : std::nullopt;
    if (!file || !fs::is_regular_file(*file))
      return sendJson(res, {{"error", "no such file in the run folder"}}, 404);
    std::ifstream in(*file, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    res.set_content(bytes.str(), contentType(*file));
  });

  port_ = options.port == 0 ? http.bind_to_any_port(host_) : (http.bind_to_port(host_, options.port) ? options.port : -1);
  if (port_ <= 0)
    throw Error("studio: cannot listen on " + host_ + ":" + std::to_string(options.port) +
                "; expected a free port (or --port 0 to pick one)");
}

Server::~Server() {
  stop();
  state_.reset();  // joins a job still running
}

std::string Server::url() const {
  const std::string host = host_ == "::1" ? "[::1]" : host_;
  return "http://" + host + ":" + std::to_string(port_) + "/?token=" + token_;
}

void Server::run() { http_->listen_after_bind(); }

void Server::stop() {
  if (http_) http_->stop();
}

}  // namespace fibseg::studio
