// repwatch/fuzz/http_server.h - a minimal HTTP/1.1 server on 127.0.0.1 for the connector fuzz
// targets: it answers the requests of one poll from a script of canned responses, so the real
// connector (net/ client, paging, error mapping, JSON mapping, cursor) runs on hostile answers.
//
// Script format (the fuzz input after the target's mode byte): responses separated by 0x1e.
// A response may start with a status line "!<status> <content-type>\n" (default 200
// application/json); the rest is the body. "@HOST@" in a body becomes "127.0.0.1:<port>" (so
// next-page links can point back here) and "@SECRET@" becomes the source's secret (an API that
// echoes the key in an error message). Requests past the end get the last response again.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace repwatch::fuzz {

class ScriptedHttpServer {
 public:
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };

  ScriptedHttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0)
      std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Sets the replies for the next requests (see the header comment) and resets the count.
  void script(std::string_view input, const std::string& secret) {
    std::vector<Reply> replies;
    while (true) {
      size_t sep = input.find('\x1e');
      std::string_view part = input.substr(0, sep);
      Reply r;
      if (!part.empty() && part[0] == '!') {
        size_t nl = part.find('\n');
        std::string_view line = part.substr(1, nl == std::string_view::npos ? part.size() : nl - 1);
        int status = 0;
        size_t i = 0;
        while (i < line.size() && i < 3 && line[i] >= '0' && line[i] <= '9')
          status = status * 10 + (line[i++] - '0');
        if (status >= 200 && status <= 599) r.status = status;
        while (i < line.size() && line[i] == ' ') ++i;
        std::string ct(line.substr(i));
        for (char& c : ct)
          if (c == '\r' || c == '\n' || static_cast<unsigned char>(c) < 0x20) c = ' ';
        r.content_type = ct;
        part = nl == std::string_view::npos ? std::string_view() : part.substr(nl + 1);
      }
      r.body = substitute(part, secret);
      replies.push_back(std::move(r));
      if (sep == std::string_view::npos || replies.size() >= 16) break;
      input.remove_prefix(sep + 1);
    }
    std::lock_guard lock(mu_);
    replies_ = std::move(replies);
    requests_ = 0;
  }

  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::string substitute(std::string_view body, const std::string& secret) const {
    std::string out;
    for (size_t i = 0; i < body.size();) {
      if (body.compare(i, 6, "@HOST@") == 0) {
        out += "127.0.0.1:" + std::to_string(port_);
        i += 6;
      } else if (body.compare(i, 8, "@SECRET@") == 0) {
        out += secret;
        i += 8;
      } else {
        out += body[i++];
      }
    }
    return out;
  }

  void serve() {
    std::vector<pollfd> fds;
    std::vector<std::string> inbuf;
    fds.push_back({listen_fd_, POLLIN, 0});
    inbuf.emplace_back();
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          fds.push_back({c, POLLIN, 0});
          inbuf.emplace_back();
        }
      }
      for (size_t k = 1; k < fds.size(); ++k) {
        if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[16384];
        ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
        bool close_it = n <= 0;
        if (n > 0) inbuf[k].append(buf, static_cast<size_t>(n));
        // Answer every complete request (headers, plus a Content-Length body if any).
        while (!close_it) {
          size_t end = inbuf[k].find("\r\n\r\n");
          if (end == std::string::npos) break;
          size_t body_len = 0;
          std::string head = inbuf[k].substr(0, end);
          for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t cl = head.find("content-length:");
          if (cl != std::string::npos) body_len = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
          if (inbuf[k].size() < end + 4 + body_len) break;
          inbuf[k].erase(0, end + 4 + body_len);
          close_it = !respond(fds[k].fd);
        }
        if (close_it) {
          ::close(fds[k].fd);
          fds.erase(fds.begin() + static_cast<long>(k));
          inbuf.erase(inbuf.begin() + static_cast<long>(k));
          --k;
        }
      }
    }
    for (size_t k = 1; k < fds.size(); ++k) ::close(fds[k].fd);
  }

  bool respond(int fd) {
    Reply r;
    {
      std::lock_guard lock(mu_);
      if (!replies_.empty())
        r = replies_[std::min<size_t>(static_cast<size_t>(requests_), replies_.size() - 1)];
      ++requests_;
    }
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
    if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
    if (r.status == 204 || r.status == 304) r.body.clear();  // no body allowed
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
    out += r.body;
    size_t off = 0;
    while (off < out.size()) {
      ssize_t w = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
    return true;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Reply> replies_;
  int requests_ = 0;
};

}  // namespace repwatch::fuzz
