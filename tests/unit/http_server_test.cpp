// The HTTP server over real loopback sockets: listeners added and removed while it runs, and answers a
// handler gives later from another thread.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "http/server.h"

namespace gantry::http {
namespace {

// A listening socket on 127.0.0.1 at a free port, as runtime::Os::listen_in_namespace makes them.
int listen_on_loopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot listen on loopback: " << std::strerror(errno);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// A blocking client connection; -1 when refused. Reads give up after 5 s so a broken server fails the
// test instead of hanging it.
int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends a GET and reads one response (head and Content-Length body); "" when the server closed the
// connection first.
std::string get(int fd, std::string_view path) {
  std::string req = "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
  std::string in;
  char buf[4096];
  while (true) {
    auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto cl = in.find("Content-Length: ");
      size_t length = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() >= head_end + 4 + length) return in.substr(0, head_end + 4 + length);
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    in.append(buf, static_cast<size_t>(n));
  }
}

std::string body_of(const std::string& response) {
  auto head_end = response.find("\r\n\r\n");
  return head_end == std::string::npos ? "" : response.substr(head_end + 4);
}

class HttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    server_ = std::make_unique<Server>(options, [this](Request& req) { return handle(req); });
    ASSERT_TRUE(server_->start().ok());
    runner_ = std::thread([this] { server_->run_until_signal(); });
  }

  void TearDown() override {
    server_->stop();
    runner_.join();
    for (auto& t : answerers_) t.join();
  }

  Response handle(const Request& req) {
    Response r;
    if (req.target == "/slow") {
      r.later = [this](std::function<void(Response)> respond) {
        std::lock_guard lock(mutex_);
        answerers_.emplace_back([respond] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          Response late;
          late.body = "late";
          respond(late);
          late.body = "twice";
          respond(late);  // ignored
        });
      };
      return r;
    }
    if (req.target == "/dropped") {
      r.later = [](std::function<void(Response)>) {};
      return r;
    }
    r.body = "served " + req.target;
    return r;
  }

  std::unique_ptr<Server> server_;
  std::thread runner_;
  std::mutex mutex_;
  std::vector<std::thread> answerers_;
};

TEST_F(HttpServer, AddedListenerServesLikeTheMainOne) {
  uint16_t port = 0;
  int fd = listen_on_loopback(port);
  ASSERT_GE(fd, 0);
  auto id = server_->add_listener(fd);
  ASSERT_TRUE(id.ok()) << id.error().message;

  int conn = connect_to(port);
  ASSERT_GE(conn, 0);
  std::string res = get(conn, "/hello");
  EXPECT_EQ(res.substr(0, 15), "HTTP/1.1 200 OK") << res;
  EXPECT_EQ(body_of(res), "served /hello");

  server_->remove_listener(*id);
  // The close is posted to the server's accept thread: wait (bounded) until connects are refused.
  int refused_after = -1;
  for (int i = 0; i < 500 && refused_after < 0; ++i) {
    int probe = connect_to(port);
    if (probe < 0) refused_after = i;
    else ::close(probe);
    if (refused_after < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(refused_after, 0) << "the removed listener still accepts";

  // The connection accepted before goes on.
  EXPECT_EQ(body_of(get(conn, "/again")), "served /again");
  ::close(conn);

  // The main listener is untouched.
  int main_conn = connect_to(server_->port());
  ASSERT_GE(main_conn, 0);
  EXPECT_EQ(body_of(get(main_conn, "/main")), "served /main");
  ::close(main_conn);
}

TEST_F(HttpServer, AddListenerRefusesWhatIsNotAListeningSocketAndClosesIt) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  auto id = server_->add_listener(fd);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("not a listening TCP socket"), std::string::npos) << id.error().message;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST_F(HttpServer, LaterAnswerComesFromAnotherThreadAndKeepAliveGoesOn) {
  int conn = connect_to(server_->port());
  ASSERT_GE(conn, 0);
  std::string res = get(conn, "/slow");
  EXPECT_EQ(res.substr(0, 15), "HTTP/1.1 200 OK") << res;
  EXPECT_EQ(body_of(res), "late");
  EXPECT_EQ(body_of(get(conn, "/next")), "served /next");
  ::close(conn);
}

TEST_F(HttpServer, DroppedLaterClosesTheConnection) {
  int conn = connect_to(server_->port());
  ASSERT_GE(conn, 0);
  EXPECT_EQ(get(conn, "/dropped"), "");
  ::close(conn);
  // The server still serves.
  int again = connect_to(server_->port());
  ASSERT_GE(again, 0);
  EXPECT_EQ(body_of(get(again, "/ok")), "served /ok");
  ::close(again);
}

}  // namespace
}  // namespace gantry::http
