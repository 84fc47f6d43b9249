// The studio's server lets no one in: a request without the token or with a wrong one is refused,
// paths that leave the run folder (.., absolute, encoded, through a symbolic link) are refused,
// it listens on the loopback address only, bodies are bounded, and a stale save of an annotation
// (a second tab) is refused with 409 while the first save stays whole. On a 4-slice phantom run.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "fibseg/config/param_set.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/phantom/write_phantom.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/studio/paths.hpp"
#include "fibseg/studio/server.hpp"

namespace fibseg::studio {
namespace {
namespace fs = std::filesystem;

// One phantom run for every test of this file (a second's work), removed at exit.
struct RemovedAtExit {
  fs::path root;
  ~RemovedAtExit() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

const fs::path& phantomRun() {
  static const RemovedAtExit folder{fs::temp_directory_path() / ("fibseg_studio_test_" + std::to_string(getpid()))};
  static const fs::path run = [] {
    const fs::path root = folder.root;
    fs::remove_all(root);
    phantom::PhantomParams p;
    p.width = 96;
    p.height = 80;
    p.slices = 4;
    phantom::writePhantom(p, root / "phantom");
    auto params = config::ParamSet::defaults();
    params.set("input.path", (root / "phantom" / "raw").string(), "test");
    params.set("output.folder", (root / "run").string(), "test");
    params.set("measure.enabled", "false", "test");
    std::ostringstream log;
    pipeline::runPipeline(params, {.log = &log});
    return root / "run";
  }();
  return run;
}

struct RunningStudio {
  std::shared_ptr<Session> session;
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit RunningStudio(const fs::path& studioFolder) {
    session = std::make_shared<Session>(phantomRun(), studioFolder);
    server = std::make_unique<Server>(session, ServerOptions{});
    thread = std::thread([this] { server->run(); });
    httplib::Client probe("127.0.0.1", server->port());
    for (int i = 0; i < 100 && !probe.Get("/"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ~RunningStudio() {
    server->stop();
    thread.join();
  }
  httplib::Client client() const { return httplib::Client("127.0.0.1", server->port()); }
  httplib::Headers withToken() const { return {{"X-Fibseg-Token", server->token()}}; }
};

// Sends `request` as it is (no client library normalising the path) and returns the response.
std::string rawRequest(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    (void)!send(fd, request.data(), request.size(), MSG_NOSIGNAL);  // the server may close early
    char buffer[4096];
    ssize_t n;
    // Until the whole response is in (Content-Length): the server may keep the connection open.
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
      response.append(buffer, std::size_t(n));
      const auto end = response.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const auto at = response.find("Content-Length: ");
      const std::size_t length = at < end ? std::stoul(response.substr(at + 16)) : 0;
      if (response.size() >= end + 4 + length) break;
    }
  }
  close(fd);
  return response;
}
int statusOf(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.substr(9, 3).c_str()) : -1;
}
std::string getRaw(const RunningStudio& s, const std::string& target) {
  return rawRequest(s.server->port(), "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fibseg-Token: " +
                                          s.server->token() + "\r\nConnection: close\r\n\r\n");
}

TEST(StudioPaths, RefusesEverythingThatLeavesTheRoot) {
  const fs::path root = phantomRun();
  EXPECT_EQ(resolveInside(root, "run.json"), fs::canonical(root / "run.json"));
  EXPECT_TRUE(resolveInside(root, "preview/not_there_yet.png").has_value());  // may not exist yet
  for (const std::string& bad : std::vector<std::string>{"", "/etc/passwd", "../run", "preview/../../x", "./run.json", "a//b", "%2e%2e/x",
                                "%252e%252e/x", "..%2fx", "preview\\..\\x", "C:/x", std::string("a\0b", 3)})
    EXPECT_FALSE(resolveInside(root, bad).has_value()) << "accepted '" << bad << "'";
  // A symbolic link inside the root pointing out of it.
  const fs::path link = root / "link_out";
  fs::remove(link);
  fs::create_directory_symlink("/etc", link);
  EXPECT_FALSE(resolveInside(root, "link_out/passwd").has_value());
  EXPECT_FALSE(resolveInside(root, "link_out").has_value());
  fs::remove(link);
}

TEST(StudioServer, RefusesRequestsWithoutTheRightToken) {
  RunningStudio s(phantomRun() / "studio-token");
  auto c = s.client();
  ASSERT_EQ(s.server->token().size(), 32u);
  auto none = c.Get("/api/info");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 403);
  EXPECT_EQ(none->body.find("slices"), std::string::npos);
  EXPECT_EQ(c.Get("/")->status, 403);
  std::string wrong = s.server->token();
  wrong[5] = wrong[5] == 'a' ? 'b' : 'a';
  EXPECT_EQ(c.Get("/api/info?token=" + wrong)->status, 403);
  EXPECT_EQ(c.Get("/api/info", {{"X-Fibseg-Token", wrong}})->status, 403);
  EXPECT_EQ(c.Get("/api/info", {{"Cookie", "fibseg_token=" + wrong}})->status, 403);
  EXPECT_EQ(c.Get("/api/info?token=" + s.server->token().substr(0, 31))->status, 403);
  EXPECT_EQ(c.Get("/files/run.json")->status, 403);
  // The right token, in each of the three places.
  auto ok = c.Get("/api/info?token=" + s.server->token());
  ASSERT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("\"slices\":4"), std::string::npos) << ok->body;
  EXPECT_EQ(c.Get("/api/info", s.withToken())->status, 200);
  EXPECT_EQ(c.Get("/api/info", {{"Cookie", "a=b; fibseg_token=" + s.server->token()}})->status, 200);
  // A second studio has another token.
  RunningStudio other(phantomRun() / "studio-token2");
  EXPECT_NE(other.server->token(), s.server->token());
  EXPECT_EQ(other.client().Get("/api/info", s.withToken())->status, 403);
}

TEST(StudioServer, ServesOnlyFilesInsideTheRunFolder) {
  RunningStudio s(phantomRun() / "studio-files");
  const fs::path link = phantomRun() / "link_out";
  fs::remove(link);
  fs::create_directory_symlink("/etc", link);
  const std::string good = getRaw(s, "/files/run.json");
  EXPECT_EQ(statusOf(good), 200) << good.substr(0, 200);
  for (const std::string& target : std::vector<std::string>
       {"/files/../run/run.json", "/files/../../../../etc/passwd", "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/files/..%2f..%2f..%2fetc%2fpasswd", "/files/%252e%252e/etc/passwd",
        "/files//etc/passwd", "/files/%2fetc%2fpasswd", "/files/link_out/passwd", "/files/preview/..%5c..%5cx",
        "/files/./run.json", "/../etc/passwd", "/%2e%2e/etc/passwd"}) {
    const std::string response = getRaw(s, target);
    const int status = statusOf(response);
    EXPECT_TRUE(status == 404 || status == 400) << target << " -> " << response.substr(0, 200);
    EXPECT_EQ(response.find("root:"), std::string::npos) << target;
  }
  fs::remove(link);
}

TEST(StudioServer, ListensOnTheLoopbackAddressOnly) {
  RunningStudio s(phantomRun() / "studio-bind");
  // /proc/net/tcp: "sl local_address(hex ip:port) rem_address st ...", st 0A = LISTEN.
  std::ifstream table("/proc/net/tcp");
  std::string line;
  char port[8];
  std::snprintf(port, sizeof port, ":%04X", s.server->port());
  int listening = 0;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state != "0A" || !local.ends_with(port)) continue;
    ++listening;
    EXPECT_EQ(local.substr(0, 8), "0100007F") << "listening on " << local << ", expected 127.0.0.1 only";
  }
  EXPECT_EQ(listening, 1);
  // Any other address is refused before anything listens.
  auto session = std::make_shared<Session>(phantomRun(), phantomRun() / "studio-bind");
  for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "localhost"})
    EXPECT_THROW(Server(session, ServerOptions{.host = host}), Error) << host;
}

TEST(StudioServer, RefusesOversizeRequests) {
  RunningStudio s(phantomRun() / "studio-size");
  const cv::Size size = s.session->size();
  auto c = s.client();
  const std::string tooLarge(std::size_t(size.area()) + (1u << 20), '\1');
  const std::string sent = rawRequest(
      s.server->port(), "PUT /api/annotation?z=0&revision=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fibseg-Token: " +
                            s.server->token() + "\r\nContent-Length: " + std::to_string(tooLarge.size()) +
                            "\r\nConnection: close\r\n\r\n" + tooLarge);
  EXPECT_EQ(statusOf(sent), 413) << sent.substr(0, 200);
  // A declared length far beyond the bound is refused before the body is read.
  const std::string response = rawRequest(
      s.server->port(), "PUT /api/annotation?z=0&revision=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fibseg-Token: " +
                            s.server->token() + "\r\nContent-Length: 100000000000\r\nConnection: close\r\n\r\nxx");
  EXPECT_EQ(statusOf(response), 413) << response.substr(0, 200);
  // A long URL and many headers are bounded by the library (8 KB each).
  EXPECT_EQ(statusOf(getRaw(s, "/api/info?x=" + std::string(20000, 'a'))), 414);
  EXPECT_FALSE(fs::exists(phantomRun() / "studio-size" / "annotations"));  // nothing written
}

TEST(StudioServer, AStaleSaveFromASecondTabIsRefusedAndTheFirstKept) {
  const fs::path folder = phantomRun() / "studio-tabs";
  fs::remove_all(folder);
  RunningStudio s(folder);
  const cv::Size size = s.session->size();
  auto c = s.client();
  std::string first(std::size_t(size.area()), '\0'), second(std::size_t(size.area()), '\0');
  first[5] = 1;                  // phase 1 at (5, 0)
  first[size.width * 3 + 7] = 3; // phase 3 at (7, 3)
  second[10] = 2;
  // Both tabs loaded slice 2 at revision 0; the first saves, then the second.
  auto a = c.Put("/api/annotation?z=2&revision=0", s.withToken(), first, "application/octet-stream");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_NE(a->body.find("\"revision\":1"), std::string::npos);
  auto b = c.Put("/api/annotation?z=2&revision=0", s.withToken(), second, "application/octet-stream");
  EXPECT_EQ(b->status, 409) << b->body;
  // The file is the first tab's strokes, in `fibseg train`'s grey format, listed in the index.
  const cv::Mat saved = io::readPngGrey(folder / "annotations" / "annotation_0002.png");
  ASSERT_EQ(saved.size(), size);
  EXPECT_EQ(cv::countNonZero(saved), 2);
  EXPECT_EQ(saved.at<std::uint8_t>(0, 5), 1);
  EXPECT_EQ(saved.at<std::uint8_t>(3, 7), 3);
  std::ifstream index(folder / "annotations" / "index.csv");
  std::stringstream text;
  text << index.rdbuf();
  EXPECT_EQ(text.str(), "slice,file,revision\n2,annotation_0002.png,1\n");
  // The second tab reloads (revision 1) and saves on top.
  EXPECT_EQ(c.Put("/api/annotation?z=2&revision=1", s.withToken(), second, "application/octet-stream")->status, 200);
  // A code beyond the phases and a wrong size are refused.
  std::string bad = first;
  bad[0] = 9;
  EXPECT_EQ(c.Put("/api/annotation?z=2&revision=2", s.withToken(), bad, "application/octet-stream")->status, 400);
  EXPECT_EQ(c.Put("/api/annotation?z=2&revision=2", s.withToken(), first.substr(1), "application/octet-stream")->status, 400);
  // A new session reads the saved strokes back.
  Session reopened(phantomRun(), folder);
  EXPECT_EQ(reopened.annotation(2).revision, 2);
  EXPECT_EQ(reopened.annotation(2).codes.at<std::uint8_t>(0, 10), 2);
}

}  // namespace
}  // namespace fibseg::studio
