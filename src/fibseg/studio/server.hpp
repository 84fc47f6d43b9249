#pragma once
// `fibseg studio`'s HTTP server: the page's assets and a small JSON/bytes API over a Session.
// It lets no one in: it binds to the loopback address only, every request must carry the token
// made at start (query `token=`, header X-Fibseg-Token or the cookie the page sets), request
// bodies are bounded (one annotation), and every path a request names is checked (paths.hpp).
// Long work (train, tune, run) runs as one background job at a time, polled by the page.
#include <functional>
#include <memory>
#include <string>

#include "fibseg/studio/session.hpp"

namespace httplib {
class Server;
}

namespace fibseg::studio {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback only: anything else is refused
  int port = 0;                    // 0 = a free port, chosen by the system
  std::string token;               // empty = a random one (randomToken())
};

/// 32 hex digits from the system's random source.
std::string randomToken();

class Server {
 public:
  /// Binds (throws naming the address and port when it cannot; refuses a non-loopback host).
  Server(std::shared_ptr<Session> session, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  const std::string& token() const { return token_; }
  /// http://127.0.0.1:PORT/?token=TOKEN
  std::string url() const;
  /// Serves until stop() (from another thread or a signal handler's thread).
  void run();
  void stop();

  struct State;

 private:
  std::shared_ptr<Session> session_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<State> state_;
  std::string host_, token_;
  int port_ = 0;
};

}  // namespace fibseg::studio
