// repwatch/core/file.h - files that appear whole or not at all.
//
//   write_file_atomically("report.html", html);    // throws repwatch::Error
//
//   AtomicFile f("export.csv");                    // writes export.csv.part
//   f.stream() << ...;
//   f.commit();                                    // flushed to disk, renamed to export.csv
//
// The content is written to a temporary file next to the target (the target's name with
// ".part" appended), flushed to the disk with fsync(2) and renamed over the target, so a reader
// - or the target after a crash or a full disk - sees the old file or the whole new one, never
// half of it. A temporary that is not committed is removed.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string_view>

namespace repwatch {

class AtomicFile {
 public:
  // Creates (truncates) the temporary file with permissions `mode` (less the umask), so a
  // private file is never readable by others, not even while it is written. Throws Error
  // "cannot write <tmp>: <reason>".
  explicit AtomicFile(std::filesystem::path target, std::string_view suffix = ".part",
                      mode_t mode = 0666);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  const std::filesystem::path& temporary() const { return tmp_; }
  const std::filesystem::path& target() const { return target_; }

  // Writes what is buffered, fsyncs, closes and renames the temporary file over the target.
  // Throws Error "cannot write <tmp>: <reason>" or "cannot rename <tmp> to <target>: <reason>".
  void commit();

 private:
  class Buffer;
  std::filesystem::path target_;
  std::filesystem::path tmp_;
  std::unique_ptr<Buffer> buf_;
  std::unique_ptr<std::ostream> out_;
  bool committed_ = false;
};

// Writes `contents` to `target` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& target, std::string_view contents,
                           std::string_view suffix = ".part", mode_t mode = 0666);

}  // namespace repwatch
