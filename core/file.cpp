#include "core/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace repwatch {

namespace {

std::string cannot_write(const std::filesystem::path& p, int err) {
  return "cannot write " + p.string() + ": " + std::strerror(err);
}

}  // namespace

// A buffered stream to a file descriptor that remembers the first write error.
class AtomicFile::Buffer : public std::streambuf {
 public:
  explicit Buffer(int fd) : fd_(fd), data_(64 * 1024) {
    setp(data_.data(), data_.data() + data_.size());
  }
  ~Buffer() override { close(); }

  int fd() const { return fd_; }
  int error() const { return error_; }

  // Writes what is buffered; false (error() set) when the file could not take it.
  bool drain() {
    const char* p = pbase();
    while (p < pptr() && error_ == 0) {
      const ssize_t n = ::write(fd_, p, static_cast<size_t>(pptr() - p));
      if (n < 0) {
        if (errno != EINTR) error_ = errno;
        continue;
      }
      p += n;
    }
    setp(data_.data(), data_.data() + data_.size());
    return error_ == 0;
  }

  int close() {
    if (fd_ < 0) return 0;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  int fd_;
  int error_ = 0;
  std::vector<char> data_;
};

AtomicFile::AtomicFile(std::filesystem::path target, std::string_view suffix, mode_t mode)
    : target_(std::move(target)) {
  tmp_ = target_;
  tmp_ += std::string(suffix);
  const int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw Error(cannot_write(tmp_, errno));
  buf_ = std::make_unique<Buffer>(fd);
  out_ = std::make_unique<std::ostream>(buf_.get());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  buf_->close();
  std::error_code ignored;
  std::filesystem::remove(tmp_, ignored);
}

std::ostream& AtomicFile::stream() { return *out_; }

void AtomicFile::commit() {
  out_->flush();
  if (!buf_->drain()) throw Error(cannot_write(tmp_, buf_->error()));
  if (!*out_) throw Error(cannot_write(tmp_, EIO));
  if (::fsync(buf_->fd()) != 0 || buf_->close() != 0) throw Error(cannot_write(tmp_, errno));
  std::error_code ec;
  std::filesystem::rename(tmp_, target_, ec);
  if (ec)
    throw Error("cannot rename " + tmp_.string() + " to " + target_.string() + ": " + ec.message());
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& target, std::string_view contents,
                           std::string_view suffix, mode_t mode) {
  AtomicFile f(target, suffix, mode);
  f.stream().write(contents.data(), static_cast<std::streamsize>(contents.size()));
  f.commit();
}

}  // namespace repwatch
