// The "file" connector: reviews from CSV and JSONL export files. See file_connector.h and the
// [[sources]] type = "file" part of config/repwatch.example.toml for the settings.
//
// The cursor is a JSON object recording, per file (named relative to `path`), its size,
// modification time and a 64-bit content hash, plus a fingerprint of the settings that shape
// the reviews (mapping, scale, offsets):
//   {"v":1,"settings":"9f...","files":{"2026-03.csv":{"size":812,"mtime_ns":...,"hash":"..."}}}
// A file whose size and mtime match is not opened; one whose content hash matches (touched,
// copied again) is not parsed; any other file is parsed whole. A change of the settings
// fingerprint re-reads every file. A file that could not be read at all (I/O error, a mapped
// column missing from its header) is left out of the cursor, so it is tried again next poll.
//
// Removals: when a file's content changed, a file is new or a file is gone, the source may no
// longer have a review it had, so (unless detect_removals = false) every file is read again and
// the poll is a complete listing (FetchResult::complete) when all of them were read whole
// without a problem: a stored review whose row is in none of the files was removed (a row
// deleted from an export, or the export file deleted). When nothing changed nothing is read. A
// file modified less than kSettleSeconds ago may still be being copied (cut at a line end it
// reads without a problem): then the listing is not taken as complete until a later poll.
#include "connectors/file_connector.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "connectors/csv.h"
#include "core/access.h"
#include "core/error.h"
#include "core/text.h"
#include "core/time.h"

namespace repwatch::connectors {

namespace fs = std::filesystem;

namespace {

// The review fields a file can provide, in the order of kFieldNames.
enum Field {
  kExternalId,
  kAuthor,
  kRating,
  kText,
  kCreatedAt,
  kUpdatedAt,
  kReplyText,
  kReplyAt,
  kUrl,
  kLanguage,
  kLocation,
  kQuestion,      // layout = "long": which question a row answers (its id) ...
  kQuestionText,  // ... or its wording
  kAnswer,        // ... and the answer
  kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "external_id", "author", "rating",   "text",     "created_at", "updated_at",    "reply_text",
    "reply_at",    "url",    "language", "location", "question",   "question_text", "answer"};

// The fields only a long layout reads, and those only a wide one reads.
bool long_only(size_t f) { return f == kQuestion || f == kQuestionText || f == kAnswer; }
bool wide_only(size_t f) { return f == kRating || f == kText; }

enum class Format { kAuto, kCsv, kJsonl };

// ---- small helpers -----------------------------------------------------------------------

// A quoted, shortened rendering of a bad value for messages: line breaks become spaces, other
// control characters (a NUL of a UTF-16 file read as bytes) \xNN, so none reaches the log.
std::string quote(std::string_view s) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : s) {
    if (++n > 60) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n' || c == '\r') c = ' ';
    if (const auto u = static_cast<unsigned char>(c); u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Answers that mean "no answer" in survey exports and rating columns: no rating, no problem.
bool is_non_answer(std::string_view lowered) {
  static constexpr std::string_view kWords[] = {"n/a",
                                                "na",
                                                "not applicable",
                                                "declined",
                                                "refused",
                                                "don't know",
                                                "dont know",
                                                "do not know",
                                                "prefer not to say",
                                                "prefer not to answer",
                                                "no answer",
                                                "skipped",
                                                "-"};
  for (auto w : kWords)
    if (lowered == w) return true;
  return false;
}

// The 1-based line of byte `offset` in `text`.
size_t line_at(std::string_view text, size_t offset) {
  return 1 + static_cast<size_t>(
                 std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

std::string hex64(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = digits[v & 15];
  return out;
}

// A fast 64-bit content hash (not cryptographic: it only has to notice that a file changed).
uint64_t hash_bytes(std::string_view s, uint64_t seed = 0x9e3779b97f4a7c15ULL) {
  const uint64_t k = 0xff51afd7ed558ccdULL;
  uint64_t h = seed ^ (s.size() * k);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    w *= k;
    w ^= w >> 33;
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ (tail * k)) * 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 32;
  h *= k;
  h ^= h >> 33;
  return h;
}

// ---- a file's text, in bounded memory ------------------------------------------------------

// The text of one file being imported: the file's own pages, mapped copy-on-write (JSONL is
// parsed in place), or a converted copy when it was not UTF-8. The import gives back the pages
// it has read as it goes (release_before()), so that a file of any size costs a few megabytes
// of memory rather than its size. A converted copy is held whole.
class FileText {
 public:
  FileText() = default;
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;
  ~FileText() { unmap(); }

  // Maps `path` (its size when opened); false with `error` set when it cannot be read.
  bool open(const fs::path& path, std::string& error) {
    unmap();
    converted_.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = std::strerror(errno);
      return false;
    }
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0;
    if (ok && st.st_size > 0) {
      void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE, fd, 0);
      ok = m != MAP_FAILED;
      if (ok) {
        map_ = static_cast<char*>(m);
        map_size_ = static_cast<size_t>(st.st_size);
        ::madvise(map_, map_size_, MADV_SEQUENTIAL);
      }
    }
    if (!ok) error = std::strerror(errno);
    ::close(fd);
    data_ = map_;
    size_ = map_size_;
    released_ = map_;
    return ok;
  }

  char* data() { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  void drop_prefix(size_t n) {
    data_ += n;
    size_ -= n;
  }
  // The text converted to UTF-8 replaces the file's bytes.
  void replace(std::string converted) {
    converted_ = std::move(converted);
    unmap();
    data_ = converted_.data();
    size_ = converted_.size();
  }

  // Gives back the memory of the mapped pages before `offset` of the text; reading there again
  // reads the file again (and sees none of the changes an in-place parse made).
  void release_before(size_t offset) {
    if (!map_) return;
    char* end = map_ + ((static_cast<size_t>(data_ + offset - map_)) & ~(kPage - 1));
    if (end < released_ + kRelease && offset < size_) return;  // a syscall a megabyte
    if (end <= released_) return;
    ::madvise(released_, static_cast<size_t>(end - released_), MADV_DONTNEED);
    released_ = end;
  }
  // Releases every page; the next read of the text starts again from its beginning.
  void release_all() {
    release_before(size_);
    released_ = map_;
  }

  // Calls `find` on consecutive windows of a few megabytes, each cut after a line end (so that
  // no character is cut in two), releasing each after it; returns the first offset `find`
  // reports (npos for none) plus the window's start.
  template <class Find>
  size_t find_in_windows(const Find& find) {
    for (size_t start = 0; start < size_;) {
      size_t end = std::min(size_, start + kWindow);
      if (end < size_) {
        size_t nl = view().rfind('\n', end - 1);
        end = nl == std::string_view::npos || nl < start ? end : nl + 1;
      }
      size_t at = find(view().substr(start, end - start));
      if (at != std::string_view::npos) {
        release_all();
        return start + at;
      }
      start = end;
      release_before(start);
    }
    release_all();
    return std::string_view::npos;
  }

  // hash_bytes() of the whole text, read window by window (the same value).
  uint64_t hash() {
    const uint64_t k = 0xff51afd7ed558ccdULL;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (size_ * k);
    size_t i = 0;
    for (; i + 8 <= size_; i += 8) {
      uint64_t w;
      std::memcpy(&w, data_ + i, 8);
      w *= k;
      w ^= w >> 33;
      h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
      h ^= h >> 29;
      if ((i & (kWindow - 1)) == 0 && i) release_before(i);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, data_ + i, size_ - i);
    h = (h ^ (tail * k)) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 32;
    h *= k;
    h ^= h >> 33;
    release_all();
    return h;
  }

 private:
  static constexpr size_t kPage = 4096;
  static constexpr size_t kWindow = size_t{4} << 20;  // a power of two
  static constexpr size_t kRelease = size_t{1} << 20;

  void unmap() {
    if (map_) ::munmap(map_, map_size_);
    map_ = nullptr;
    map_size_ = 0;
  }

  char* map_ = nullptr;
  size_t map_size_ = 0;
  char* released_ = nullptr;  // the mapped pages before this are given back
  std::string converted_;
  char* data_ = nullptr;
  size_t size_ = 0;
};

// Where the reviews of a poll go: into `out`, delivered as a part (`flush`) whenever it holds
// `part_size` of them.
struct Parts {
  FetchResult& out;
  size_t part_size;
  std::function<void()> flush;
  void added() {
    if (out.reviews.size() >= part_size) flush();
  }
};

std::optional<int64_t> parse_offset(std::string_view s) {
  if (s == "Z" || s == "UTC" || s == "utc") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  auto two = [&](size_t p) -> int {
    if (s[p] < '0' || s[p] > '9' || s[p + 1] < '0' || s[p + 1] > '9') return -1;
    return (s[p] - '0') * 10 + (s[p + 1] - '0');
  };
  int h = two(1), m = two(4);
  if (h < 0 || m < 0 || h > 23 || m > 59) return std::nullopt;
  int64_t secs = h * 3600 + m * 60;
  return s[0] == '-' ? -secs : secs;
}

// True when an ISO 8601 text carries its own offset ("Z", "+02:00", "-0500").
bool has_offset(std::string_view s) {
  if (s.size() <= 10) return false;
  return s.find_first_of("Zz+-", 10) != std::string_view::npos;
}

struct FileState {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string hash;
};

struct Cursor {
  std::string settings;
  std::map<std::string, FileState> files;
};

std::optional<Cursor> parse_cursor(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  Cursor c;
  auto v = doc.FindMember("v");
  if (v == doc.MemberEnd() || !v->value.IsInt() || v->value.GetInt() != 1) return std::nullopt;
  auto s = doc.FindMember("settings");
  if (s != doc.MemberEnd() && s->value.IsString()) c.settings = s->value.GetString();
  auto files = doc.FindMember("files");
  if (files == doc.MemberEnd() || !files->value.IsObject()) return std::nullopt;
  for (const auto& m : files->value.GetObject()) {
    if (!m.value.IsObject()) return std::nullopt;
    FileState f;
    auto size = m.value.FindMember("size");
    auto mtime = m.value.FindMember("mtime_ns");
    auto hash = m.value.FindMember("hash");
    if (size == m.value.MemberEnd() || !size->value.IsUint64() || mtime == m.value.MemberEnd() ||
        !mtime->value.IsInt64() || hash == m.value.MemberEnd() || !hash->value.IsString())
      return std::nullopt;
    f.size = size->value.GetUint64();
    f.mtime_ns = mtime->value.GetInt64();
    f.hash = hash->value.GetString();
    c.files.emplace(std::string(m.name.GetString(), m.name.GetStringLength()), std::move(f));
  }
  return c;
}

std::string write_cursor(const Cursor& c) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("v");
  w.Int(1);
  w.Key("settings");
  w.String(c.settings.c_str(), static_cast<rapidjson::SizeType>(c.settings.size()));
  w.Key("files");
  w.StartObject();
  for (const auto& [name, f] : c.files) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.StartObject();
    w.Key("size");
    w.Uint64(f.size);
    w.Key("mtime_ns");
    w.Int64(f.mtime_ns);
    w.Key("hash");
    w.String(f.hash.c_str(), static_cast<rapidjson::SizeType>(f.hash.size()));
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// The values of one row, by field; nullopt when the file has no such column/key or the
// value is null.
using RowValues = std::array<std::optional<std::string_view>, kFieldCount>;
// Receives the rows of a file with their line numbers.
using RowSink = std::function<void(const RowValues&, size_t line)>;

// How to read a rating: its scale and, for a labelled scale ("Very poor".."Very good"), the
// label of each point from the lowest up.
struct RatingReader {
  RatingScale scale = RatingScale::stars();
  std::vector<std::string> labels;  // as configured; empty: numbers (and yes/no on binary)
};

// Layout "long": one row per answer. A respondent's rows gathered into one review.
struct Respondent {
  std::string id;
  size_t line = 0;  // the first row
  bool skipped = false;
  std::optional<int64_t> created_at, updated_at;
  std::string location, author, language, url;
  std::optional<double> rating;
  std::vector<std::string> comments;  // one per comment question, in the configured order
};

// ---- the connector -----------------------------------------------------------------------

class FileConnector : public Connector {
 public:
  FileConnector(const SourceConfig& source, const Config& config);
  FetchResult fetch(const std::string& cursor) override;
  void fetch_parts(const std::string& cursor, size_t part_size, const PartSink& deliver) override;
  std::vector<std::string> preflight() const override;

 private:
  // The settings, a group each (the constructor calls them in this order, so the first
  // mistake in the file is the one reported): path, pattern, format, delimiter, encoding;
  // layout; the rating's scale and labels; the questions of a long layout; utc_offset and
  // date_format; [sources.fields].
  void read_files(const Settings& s);
  void read_layout(const Settings& s);
  void read_rating(const Settings& s, const Settings& rating);
  void read_questions(const Settings& s, const Settings& rating);
  void read_times(const Settings& s);
  void read_fields(const Settings& s);
  // Everything that shapes the reviews made from a file, for the fingerprint.
  std::string shape() const;
  // Turns a file's bytes into UTF-8 (see `encoding` in file_connector.h); false, with a
  // problem naming the file and line, when it is not text in that encoding.
  bool decode(const std::string& name, FileText& content, FetchResult& out) const;
  // Reads one file into `parts`; returns false when the file as a whole could not be used.
  bool import_file(const std::string& name, FileText& content, Parts& parts) const;
  // The rows of a file, to `sink`, releasing the pages read as the rows go. `in_place`: JSONL
  // is parsed in the text itself (which it changes).
  bool import_csv(const std::string& name, FileText& content, char delimiter, FetchResult& out,
                  const RowSink& sink) const;
  void import_jsonl(const std::string& name, FileText& content, FetchResult& out,
                    const RowSink& sink, bool in_place) const;
  // Layout "wide": turns one row into a review appended to out.reviews (true), or reports why
  // it cannot.
  bool add_review(const RowValues& values, const std::string& file, size_t line,
                  FetchResult& out) const;
  // Layout "long": adds one answer row to its respondent; then the respondents' reviews.
  void add_answer(const RowValues& values, const std::string& file, size_t line,
                  std::vector<Respondent>& respondents,
                  std::unordered_map<std::string, size_t>& by_id, FetchResult& out) const;
  void add_respondents(std::vector<Respondent>& respondents, const std::string& file,
                       FetchResult& out) const;
  // Layout "wide": the hashes of the ids that more than one row of the file has (a first
  // read of the file, keeping 8 bytes a row), so that only those rows wait for the file's end.
  std::unordered_set<size_t> repeated_ids(const std::string& name, FileText& content, Format format,
                                          char delimiter) const;
  // Which selected question a row answers: 0 the rating, 1 + k the k-th comment; -1 none.
  int question_of(std::string_view id, std::string_view wording) const;
  // Resolves a row's location (id or name); nullopt after reporting an unknown one.
  std::optional<std::string> location_of(std::string_view text) const;
  std::optional<int64_t> parse_time(std::string_view text) const;
  std::optional<double> parse_rating(std::string_view text, std::string& error) const;
  std::string field_label(Field f) const;
  Format format_of(const fs::path& file) const;

  SourceConfig source_;
  fs::path path_;
  std::vector<std::string> patterns_;
  Format format_ = Format::kAuto;
  std::optional<char> delimiter_;
  RatingReader rating_;
  std::string encoding_;                        // an iconv name; "" = auto
  bool long_ = false;                           // layout = "long"
  std::vector<std::string> rating_questions_;   // lower-cased
  std::vector<std::string> comment_questions_;  // lower-cased, in order
  int64_t utc_offset_ = 0;
  std::string date_format_;
  std::array<std::string, kFieldCount> columns_;            // column name / JSON key per field
  std::array<bool, kFieldCount> explicit_{};                // mapped in [sources.fields]
  std::unordered_map<std::string, std::string> locations_;  // id and lower-cased name -> id
  std::string fingerprint_;
  bool detect_removals_ = true;
};

std::vector<std::string> FileConnector::preflight() const {
  std::string why = cannot_read(path_, PathKind::kEither);
  if (why.empty()) return {};
  return {source_.settings.describe(
      "path", "cannot read \"" + path_.string() + "\": " + why +
                  "; every poll of this source fails until it can (create it, or fix the path)")};
}

FileConnector::FileConnector(const SourceConfig& source, const Config& config) : source_(source) {
  const Settings& s = source.settings;
  std::vector<std::string_view> allowed = common_source_keys();
  for (auto k : {"path", "pattern", "format", "delimiter", "scale", "utc_offset", "date_format",
                 "fields", "encoding", "layout", "rating", "comment", "detect_removals"})
    allowed.push_back(k);
  s.reject_unknown(allowed);

  read_files(s);
  read_layout(s);
  // The rating: top-level `scale`, or [sources.rating] with its question, scale and labels.
  Settings rating = s.table("rating");
  rating.reject_unknown({"question", "scale", "labels"});
  read_rating(s, rating);
  read_questions(s, rating);
  read_times(s);
  detect_removals_ = s.boolean("detect_removals").value_or(true);
  read_fields(s);
  for (const auto& loc : config.locations) {
    locations_.emplace(loc.id, loc.id);
    locations_.emplace(lower(loc.name), loc.id);
  }

  // Everything that shapes the reviews made from a file: when it changes, files are re-read.
  fingerprint_ = hex64(hash_bytes(shape()));
}

void FileConnector::read_files(const Settings& s) {
  auto path = s.path("path");
  if (!path) s.fail("path", "is required (a directory of export files, or one file)");
  path_ = *path;

  patterns_ = s.string_list("pattern");
  if (patterns_.empty() && !s.has("pattern")) patterns_ = {"*.csv", "*.jsonl", "*.ndjson"};
  if (patterns_.empty()) s.fail("pattern", "must name at least one file pattern");

  if (auto f = s.string("format")) {
    if (*f == "csv") {
      format_ = Format::kCsv;
    } else if (*f == "jsonl" || *f == "ndjson") {
      format_ = Format::kJsonl;
    } else if (*f != "auto") {
      s.fail("format", "expected \"csv\" or \"jsonl\", got " + quote(*f));
    }
  }
  if (auto d = s.string("delimiter")) {
    if (*d == "tab" || *d == "\t") {
      delimiter_ = '\t';
    } else if (d->size() == 1 && *d != "\"" && *d != "\n" && *d != "\r") {
      delimiter_ = (*d)[0];
    } else {
      s.fail("delimiter", "expected one character or \"tab\", got " + quote(*d));
    }
  }
  if (auto e = s.string("encoding")) {
    const std::string l = lower(*e);
    if (l == "auto") {
      // the default
    } else if (l == "cp1252") {
      encoding_ = "WINDOWS-1252";
    } else if (is_known_encoding(*e)) {
      encoding_ = *e;
    } else {
      s.fail("encoding", "unknown character set " + quote(*e) +
                             " (expected \"auto\", \"utf-8\", \"windows-1252\", \"iso-8859-1\", "
                             "\"utf-16\" or another name `iconv -l` lists)");
    }
  }
}

void FileConnector::read_layout(const Settings& s) {
  if (auto l = s.string("layout")) {
    if (*l == "long") {
      long_ = true;
    } else if (*l != "wide") {
      s.fail("layout",
             "expected \"wide\" (one row per review) or \"long\" (one row per answer), got " +
                 quote(*l));
    }
  }
}

void FileConnector::read_rating(const Settings& s, const Settings& rating) {
  auto parse_scale = [](const Settings& where, std::string_view key, const std::string& text) {
    try {
      return RatingScale::parse(text);
    } catch (const ConfigError& e) {
      where.fail(key, e.what());
    }
  };
  if (auto sc = s.string("scale")) rating_.scale = parse_scale(s, "scale", *sc);
  if (auto sc = rating.string("scale")) {
    if (s.has("scale")) rating.fail("scale", "the scale is already set by the source's `scale`");
    rating_.scale = parse_scale(rating, "scale", *sc);
  }
  if (rating.has("labels")) {
    for (const auto& label : rating.string_list("labels")) {
      std::string l(trim(label));
      if (l.empty()) rating.fail("labels", "a label is empty");
      for (const auto& other : rating_.labels)
        if (lower(other) == lower(l))
          rating.fail("labels", "the label " + quote(label) + " appears twice");
      rating_.labels.push_back(std::move(l));
    }
    const auto n = static_cast<double>(rating_.labels.size());
    if (n < 2) rating.fail("labels", "a labelled scale needs at least two labels");
    if (!rating.has("scale") && !s.has("scale")) {
      rating_.scale = RatingScale::linear(1, n);  // "Very poor".."Very good" = 1..5
    } else if (rating_.scale.kind == RatingScale::Kind::kNone ||
               rating_.scale.hi - rating_.scale.lo + 1 != n) {
      rating.fail("labels", std::to_string(rating_.labels.size()) +
                                " labels do not fit the scale " + rating_.scale.to_string() +
                                " (one label per point, lowest first)");
    }
  }
}

void FileConnector::read_questions(const Settings& s, const Settings& rating) {
  Settings comment = s.table("comment");
  comment.reject_unknown({"question"});
  auto questions = [](const Settings& where) {
    std::vector<std::string> out;
    for (const auto& q : where.string_list("question")) {
      if (trim(q).empty()) where.fail("question", "a question id or wording is empty");
      out.push_back(lower(trim(q)));
    }
    return out;
  };
  rating_questions_ = questions(rating);
  comment_questions_ = questions(comment);
  if (long_) {
    if (rating_questions_.empty() && comment_questions_.empty())
      s.fail("layout",
             "layout = \"long\" needs [sources.rating] question and/or [sources.comment] "
             "question: the question whose answer is the rating, the one whose answer is the "
             "comment");
    for (const auto& q : comment_questions_)
      if (std::find(rating_questions_.begin(), rating_questions_.end(), q) !=
          rating_questions_.end())
        comment.fail("question", "the question " + quote(q) + " is also the rating's");
    if (rating_questions_.empty()) rating_.scale = RatingScale::none();
  } else {
    if (rating.has("question"))
      rating.fail("question", "only with layout = \"long\" (one row per answer)");
    if (comment.has("question"))
      comment.fail("question", "only with layout = \"long\" (one row per answer)");
  }
}

void FileConnector::read_times(const Settings& s) {
  if (auto off = s.string("utc_offset")) {
    auto v = parse_offset(*off);
    if (!v)
      s.fail("utc_offset", "expected an offset like \"-05:00\" or \"UTC\", got " + quote(*off));
    utc_offset_ = *v;
  }
  date_format_ = s.string_or("date_format", "");
}

void FileConnector::read_fields(const Settings& s) {
  Settings fields = s.table("fields");
  fields.reject_unknown({kFieldNames.begin(), kFieldNames.end()});
  for (size_t i = 0; i < kFieldCount; ++i) {
    columns_[i] = std::string(kFieldNames[i]);
    if (auto col = fields.string(kFieldNames[i])) {
      if (col->empty()) fields.fail(kFieldNames[i], "must name a column or key, got \"\"");
      if (!long_ && long_only(i))
        fields.fail(kFieldNames[i], "only with layout = \"long\" (one row per answer)");
      if (long_ && wide_only(i))
        fields.fail(kFieldNames[i],
                    "with layout = \"long\" the rating and the comment are answers: choose their "
                    "questions in [sources.rating] and [sources.comment]");
      columns_[i] = *col;
      explicit_[i] = true;
    }
  }
}

// (What came later is added only when set, so an upgrade does not re-read every file.)
std::string FileConnector::shape() const {
  std::string shape = source_.location + '\x1f' + rating_.scale.to_string() + '\x1f' +
                      std::to_string(utc_offset_) + '\x1f' + date_format_ + '\x1f' +
                      std::to_string(static_cast<int>(format_)) + '\x1f' +
                      std::string(1, delimiter_.value_or(',')) + '\x1f';
  for (size_t i = 0; i < kFieldCount; ++i)
    if (!long_only(i)) shape += columns_[i] + '\x1f';
  if (!encoding_.empty()) shape += "encoding=" + lower(encoding_) + '\x1f';
  for (const auto& l : rating_.labels) shape += "label=" + lower(l) + '\x1f';
  if (long_) {
    shape += "long\x1f";
    for (size_t i = 0; i < kFieldCount; ++i)
      if (long_only(i)) shape += columns_[i] + '\x1f';
    for (const auto& q : rating_questions_) shape += "rating=" + q + '\x1f';
    for (const auto& q : comment_questions_) shape += "comment=" + q + '\x1f';
  }
  return shape;
}

std::string FileConnector::field_label(Field f) const {
  if (!explicit_[f]) return std::string(kFieldNames[f]);
  return std::string(kFieldNames[f]) + " (" + quote(columns_[f]) + ")";
}

Format FileConnector::format_of(const fs::path& file) const {
  if (format_ != Format::kAuto) return format_;
  std::string ext = lower(file.extension().string());
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt") return Format::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson") return Format::kJsonl;
  return Format::kAuto;
}

std::optional<int64_t> FileConnector::parse_time(std::string_view text) const {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  // Epoch seconds (or milliseconds) as an integer.
  if (text.size() >= 9 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return text.size() >= 13 ? v / 1000 : v;
  }
  if (!date_format_.empty()) {
    std::string s(text);
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), date_format_.c_str(), &tm);
    if (!end || !trim(end).empty()) return std::nullopt;
    bool zoned = date_format_.find("%z") != std::string::npos;
    int64_t offset = zoned ? tm.tm_gmtoff : utc_offset_;
    return static_cast<int64_t>(::timegm(&tm)) - offset;
  }
  auto t = parse_timestamp(text);
  if (!t) return std::nullopt;
  return has_offset(text) ? *t : *t - utc_offset_;
}

std::optional<double> FileConnector::parse_rating(std::string_view text, std::string& error) const {
  const RatingScale& scale = rating_.scale;
  text = trim(text);
  if (text.empty() || scale.kind == RatingScale::Kind::kNone) return std::nullopt;
  const std::string v = lower(text);
  if (is_non_answer(v)) return std::nullopt;
  for (size_t i = 0; i < rating_.labels.size(); ++i)
    if (v == lower(rating_.labels[i])) return scale.lo + static_cast<double>(i);
  if (scale.kind == RatingScale::Kind::kBinary && rating_.labels.empty()) {
    if (v == "1" || v == "true" || v == "yes" || v == "y" || v == "recommend" ||
        v == "recommended" || v == "recommends" || v == "positive")
      return 1.0;
    if (v == "0" || v == "false" || v == "no" || v == "n" || v == "not recommend" ||
        v == "not recommended" || v == "does not recommend" || v == "negative")
      return 0.0;
    error = "expected recommend / not recommend (1/0, yes/no), got " + quote(text);
    return std::nullopt;
  }
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(d)) {
    // Google's starRating enum on the 1-5 scale.
    if (scale == RatingScale::stars() && rating_.labels.empty()) {
      static const std::array<std::string_view, 5> words = {"one", "two", "three", "four", "five"};
      for (size_t i = 0; i < words.size(); ++i)
        if (v == words[i]) return static_cast<double>(i + 1);
      if (v == "star_rating_unspecified") return std::nullopt;
    }
    if (rating_.labels.empty()) {
      error = "not a number " + quote(text);
    } else {
      error = "not a number or one of the labels " + quote(rating_.labels.front()) + " .. " +
              quote(rating_.labels.back()) + ": " + quote(text);
    }
    return std::nullopt;
  }
  if (d < scale.lo || d > scale.hi) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    error = std::string(buf) + " is outside the scale " + scale.to_string();
    return std::nullopt;
  }
  return d;
}

std::optional<std::string> FileConnector::location_of(std::string_view loc) const {
  auto it = locations_.find(std::string(loc));
  if (it == locations_.end()) it = locations_.find(lower(loc));
  if (it == locations_.end()) return std::nullopt;
  return it->second;
}

bool FileConnector::add_review(const RowValues& values, const std::string& file, size_t line,
                               FetchResult& out) const {
  auto problem = [&](Field f, const std::string& msg) {
    out.problems.push_back({file + ":" + std::to_string(line), field_label(f) + ": " + msg});
    return false;
  };
  auto text_of = [&](Field f) -> std::string_view {
    return values[f] ? *values[f] : std::string_view();
  };

  Review r;
  r.source_id = source_.id;
  r.location_id = source_.location;
  r.scale = rating_.scale;

  std::string_view created = trim(text_of(kCreatedAt));
  if (created.empty()) return problem(kCreatedAt, "missing (every review needs its date)");
  auto created_at = parse_time(created);
  if (!created_at) return problem(kCreatedAt, "not a date " + quote(created));
  r.created_at = *created_at;
  r.updated_at = r.created_at;
  if (auto u = trim(text_of(kUpdatedAt)); !u.empty()) {
    auto t = parse_time(u);
    if (!t) return problem(kUpdatedAt, "not a date " + quote(u));
    r.updated_at = *t;
  }
  if (auto u = trim(text_of(kReplyAt)); !u.empty()) {
    auto t = parse_time(u);
    if (!t) return problem(kReplyAt, "not a date " + quote(u));
    r.reply_at = *t;
  }

  std::string error;
  r.raw_rating = parse_rating(text_of(kRating), error);
  if (!error.empty()) return problem(kRating, error);

  if (auto loc = trim(text_of(kLocation)); !loc.empty()) {
    auto id = location_of(loc);
    if (!id) return problem(kLocation, "no [[locations]] entry has the id or name " + quote(loc));
    r.location_id = *id;
  }

  r.author = std::string(trim(text_of(kAuthor)));
  r.text = std::string(trim(text_of(kText)));
  r.reply_text = std::string(trim(text_of(kReplyText)));
  r.url = std::string(trim(text_of(kUrl)));
  r.language = std::string(trim(text_of(kLanguage)));

  r.external_id = std::string(trim(text_of(kExternalId)));
  if (r.external_id.empty()) {
    // No id from the source: a stable one from what identifies the review.
    std::string key = std::to_string(r.created_at) + '\x1f' + r.author + '\x1f' + r.text;
    r.external_id = "derived-" + hex64(hash_bytes(key));
  }
  out.reviews.push_back(std::move(r));
  return true;
}

int FileConnector::question_of(std::string_view id, std::string_view wording) const {
  const std::string a = lower(trim(id)), b = lower(trim(wording));
  auto is = [&](const std::string& q) { return (!a.empty() && q == a) || (!b.empty() && q == b); };
  for (const auto& q : rating_questions_)
    if (is(q)) return 0;
  for (size_t k = 0; k < comment_questions_.size(); ++k)
    if (is(comment_questions_[k])) return 1 + static_cast<int>(k);
  return -1;
}

void FileConnector::add_answer(const RowValues& values, const std::string& file, size_t line,
                               std::vector<Respondent>& respondents,
                               std::unordered_map<std::string, size_t>& by_id,
                               FetchResult& out) const {
  auto text_of = [&](Field f) -> std::string_view {
    return values[f] ? trim(*values[f]) : std::string_view();
  };
  const std::string where = file + ":" + std::to_string(line);
  std::string_view id = text_of(kExternalId);
  if (id.empty()) {
    out.problems.push_back(
        {where, field_label(kExternalId) + ": missing (every answer names its respondent)"});
    return;
  }
  auto [it, added] = by_id.try_emplace(std::string(id), respondents.size());
  if (added) {
    respondents.emplace_back();
    respondents.back().id = std::string(id);
    respondents.back().line = line;
    respondents.back().comments.resize(comment_questions_.size());
  }
  Respondent& r = respondents[it->second];
  if (r.skipped) return;  // reported once, at its first bad row
  auto skip = [&](Field f, const std::string& msg) {
    out.problems.push_back(
        {where, field_label(f) + ": " + msg + "; respondent " + quote(r.id) + " not imported"});
    r.skipped = true;
  };

  for (Field f : {kCreatedAt, kUpdatedAt}) {
    std::string_view text = text_of(f);
    if (text.empty()) continue;
    auto t = parse_time(text);
    if (!t) return skip(f, "not a date " + quote(text));
    auto& slot = f == kCreatedAt ? r.created_at : r.updated_at;
    slot = !slot ? *t : f == kCreatedAt ? std::min(*slot, *t) : std::max(*slot, *t);
  }
  if (auto loc = text_of(kLocation); !loc.empty()) {
    auto location = location_of(loc);
    if (!location)
      return skip(kLocation, "no [[locations]] entry has the id or name " + quote(loc));
    if (r.location.empty()) r.location = *location;
  }
  for (auto [f, slot] :
       {std::pair{kAuthor, &r.author}, std::pair{kLanguage, &r.language}, std::pair{kUrl, &r.url}})
    if (slot->empty()) *slot = std::string(text_of(f));

  const int which = question_of(text_of(kQuestion), text_of(kQuestionText));
  if (which < 0) return;  // another question of the survey
  std::string_view answer = text_of(kAnswer);
  if (which == 0) {
    std::string error;
    auto v = parse_rating(answer, error);
    if (!error.empty()) return skip(kAnswer, error);
    if (v) r.rating = v;  // a later row answering it again wins
  } else if (!answer.empty()) {
    r.comments[static_cast<size_t>(which - 1)] = std::string(answer);
  }
}

void FileConnector::add_respondents(std::vector<Respondent>& respondents, const std::string& file,
                                    FetchResult& out) const {
  for (Respondent& p : respondents) {
    if (p.skipped) continue;
    std::string text;
    for (const auto& c : p.comments)
      if (!c.empty()) text += (text.empty() ? "" : "\n\n") + c;
    if (!p.rating && text.empty()) continue;  // answered none of the selected questions
    if (!p.created_at) {
      out.problems.push_back({file + ":" + std::to_string(p.line),
                              field_label(kCreatedAt) + ": missing on every row of respondent " +
                                  quote(p.id) + " (every review needs its date)"});
      continue;
    }
    Review r;
    r.source_id = source_.id;
    r.external_id = std::move(p.id);
    r.location_id = p.location.empty() ? source_.location : std::move(p.location);
    r.scale = rating_.scale;
    r.raw_rating = p.rating;
    r.text = std::move(text);
    r.author = std::move(p.author);
    r.language = std::move(p.language);
    r.url = std::move(p.url);
    r.created_at = *p.created_at;
    r.updated_at = std::max(r.created_at, p.updated_at.value_or(r.created_at));
    out.reviews.push_back(std::move(r));
  }
}

bool FileConnector::import_csv(const std::string& name, FileText& content, char delimiter,
                               FetchResult& out, const RowSink& sink) const {
  csv::Reader reader(content.view(), delimiter);
  csv::Record rec;
  if (!reader.next(rec)) return true;  // an empty file
  if (!rec.error.empty()) {
    out.problems.push_back({name + ":" + std::to_string(rec.line), "header: " + rec.error});
    return false;
  }
  const size_t width = rec.fields.size();
  std::array<int, kFieldCount> index;
  index.fill(-1);
  std::vector<std::string> header;
  for (auto& h : rec.fields) header.emplace_back(trim(h));
  for (size_t f = 0; f < kFieldCount; ++f) {
    if (long_ ? wide_only(f) : long_only(f)) continue;  // not read in this layout
    for (size_t i = 0; i < header.size() && index[f] < 0; ++i)
      if (header[i] == columns_[f]) index[f] = static_cast<int>(i);
    for (size_t i = 0; i < header.size() && index[f] < 0; ++i)
      if (lower(header[i]) == lower(columns_[f])) index[f] = static_cast<int>(i);
  }
  std::vector<std::string> missing;
  for (size_t f = 0; f < kFieldCount; ++f)
    if (explicit_[f] && index[f] < 0) missing.push_back(field_label(static_cast<Field>(f)));
  // Required even when not mapped explicitly (then under their own names).
  std::vector<Field> required = {kCreatedAt};
  if (long_) {
    required.insert(required.end(), {kExternalId, kAnswer});
    if (index[kQuestionText] < 0) required.push_back(kQuestion);
  }
  for (Field f : required)
    if (index[f] < 0 && !explicit_[f]) missing.push_back(field_label(f));
  if (!missing.empty()) {
    std::string cols;
    for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + quote(h);
    std::string msg = "no column for ";
    for (size_t i = 0; i < missing.size(); ++i) msg += (i ? ", " : "") + missing[i];
    out.problems.push_back({name + ":" + std::to_string(rec.line),
                            msg + " (the header has " + cols + "); file not imported"});
    return false;
  }

  RowValues values;
  while (reader.next(rec)) {
    // The record's fields are copies: what the reader has passed is no longer needed.
    content.release_before(reader.offset());
    if (!rec.error.empty()) {
      out.problems.push_back({name + ":" + std::to_string(rec.line), rec.error});
      continue;
    }
    if (rec.fields.size() != width) {
      out.problems.push_back({name + ":" + std::to_string(rec.line),
                              "expected " + std::to_string(width) + " columns, got " +
                                  std::to_string(rec.fields.size())});
      continue;
    }
    for (size_t f = 0; f < kFieldCount; ++f)
      values[f] = index[f] < 0
                      ? std::nullopt
                      : std::optional<std::string_view>(rec.fields[static_cast<size_t>(index[f])]);
    sink(values, rec.line);
  }
  return true;
}

// Finds `key` in a JSON object: the literal key, else a dotted path into nested objects.
const rapidjson::Value* find_key(const rapidjson::Value& obj, const std::string& key) {
  // FindMember(const char*) would stop at the first NUL: look up by a sized name value.
  auto member = [](const rapidjson::Value& o, std::string_view name) -> const rapidjson::Value* {
    if (!o.IsObject()) return nullptr;
    rapidjson::Value n(
        rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size())));
    auto it = o.FindMember(n);
    return it == o.MemberEnd() ? nullptr : &it->value;
  };
  if (const rapidjson::Value* v = member(obj, key)) return v;
  if (key.find('.') == std::string::npos) return nullptr;
  const rapidjson::Value* cur = &obj;
  size_t start = 0;
  while (cur) {
    size_t dot = key.find('.', start);
    size_t end = dot == std::string::npos ? key.size() : dot;
    cur = member(*cur, std::string_view(key).substr(start, end - start));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
  return nullptr;
}

void FileConnector::import_jsonl(const std::string& name, FileText& text_of_file, FetchResult& out,
                                 const RowSink& sink, bool in_place) const {
  const std::string_view content = text_of_file.view();
  size_t pos = 0;
  size_t line = 0;
  if (content.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  char alloc_buffer[16384];
  std::array<std::string, kFieldCount> scratch;  // numbers and booleans as text
  RowValues values;
  while (pos < content.size()) {
    ++line;
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    text_of_file.release_before(pos);  // the lines before are done with
    std::string_view text = trim(content.substr(pos, end - pos));
    auto where = [&] { return name + ":" + std::to_string(line); };
    pos = end + 1;
    if (text.empty()) continue;

    rapidjson::MemoryPoolAllocator<> allocator(alloc_buffer, sizeof alloc_buffer);
    rapidjson::Document doc(&allocator);
    // Iterative: a line of 100,000 '[' would overflow the stack of the recursive parser and
    // take the daemon down (found by fuzz/fuzz_file_import).
    const bool room = text.data() + text.size() < content.data() + content.size();
    if (in_place && room) {
      // Parse in place: the line is NUL-terminated in our own (copy-on-write) view of the file.
      char* begin = text_of_file.data() + (text.data() - content.data());
      begin[text.size()] = '\0';
      doc.ParseInsitu<rapidjson::kParseIterativeFlag>(begin);
    } else {
      doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    }
    if (doc.HasParseError()) {
      out.problems.push_back(
          {where(), std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                        " at column " + std::to_string(doc.GetErrorOffset() + 1)});
      continue;
    }
    if (!doc.IsObject()) {
      out.problems.push_back({where(), "expected a JSON object, got another JSON value"});
      continue;
    }
    bool ok = true;
    for (size_t f = 0; f < kFieldCount && ok; ++f) {
      values[f] = std::nullopt;
      if (long_ ? wide_only(f) : long_only(f)) continue;  // not read in this layout
      const rapidjson::Value* v = find_key(doc, columns_[f]);
      if (!v || v->IsNull()) continue;
      if (v->IsString()) {
        values[f] = std::string_view(v->GetString(), v->GetStringLength());
      } else if (v->IsInt64()) {
        scratch[f] = std::to_string(v->GetInt64());
        values[f] = scratch[f];
      } else if (v->IsNumber()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v->GetDouble());
        scratch[f] = buf;
        values[f] = scratch[f];
      } else if (v->IsBool()) {
        scratch[f] = v->GetBool() ? "true" : "false";
        values[f] = scratch[f];
      } else {
        out.problems.push_back({where(), field_label(static_cast<Field>(f)) +
                                             ": expected a string or a number, got an " +
                                             (v->IsObject() ? "object" : "array")});
        ok = false;
      }
    }
    if (ok) sink(values, line);
  }
}

bool FileConnector::decode(const std::string& name, FileText& content, FetchResult& out) const {
  auto refuse = [&](size_t line, const std::string& why) {
    out.problems.push_back({name + ":" + std::to_string(line), why + "; file not imported"});
    return false;
  };
  auto byte_at = [&](std::string_view text, size_t at) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned char>(text[at]));
    size_t start = text.rfind('\n', at);
    start = start == std::string_view::npos ? 0 : start + 1;
    std::string before(text.substr(start, at - start));
    if (before.size() > 30) before = before.substr(before.size() - 30);
    if (invalid_utf8_at(before) != std::string::npos) return std::string(buf);
    return std::string(buf) + " after " + quote(before);
  };
  const std::string hint =
      ": set encoding in the source to the export's character set (\"windows-1252\" for Excel "
      "on Windows, \"iso-8859-1\", \"utf-16\"...)";

  // A byte-order mark says what the file is, whatever `encoding` says.
  std::string_view text = content.view();
  std::string from = encoding_;
  size_t bom = 0;
  const std::pair<std::string_view, const char*> boms[] = {
      {"\xEF\xBB\xBF", "UTF-8"},
      {std::string_view("\xFF\xFE\0\0", 4), "UTF-32LE"},
      {std::string_view("\0\0\xFE\xFF", 4), "UTF-32BE"},
      {"\xFF\xFE", "UTF-16LE"},
      {"\xFE\xFF", "UTF-16BE"}};
  for (const auto& [mark, charset] : boms) {
    if (text.substr(0, mark.size()) == mark) {
      bom = mark.size();
      from = charset;
      break;
    }
  }
  const std::string declared = lower(from);
  const bool utf16 = declared == "utf-16" || declared == "utf16";
  // (Whole-file scans go window by window, giving back each window's memory after it.)
  size_t nul = std::string_view::npos;
  if (bom == 0 && (from.empty() || utf16))
    nul = content.find_in_windows([](std::string_view w) { return w.find('\0'); });
  if (nul != std::string_view::npos) {
    // No mark but NUL bytes: UTF-16 from a tool that writes none (its ASCII has a NUL byte
    // every other byte), or not text at all.
    size_t even = 0, odd = 0;
    const size_t n = std::min<size_t>(text.size(), 4096) & ~size_t{1};
    for (size_t i = 0; i < n; i += 2) {
      even += text[i] == '\0';
      odd += text[i + 1] == '\0';
    }
    if (odd * 4 >= n / 2 && even * 50 <= n / 2) {
      from = "UTF-16LE";
    } else if (even * 4 >= n / 2 && odd * 50 <= n / 2) {
      from = "UTF-16BE";
    } else {
      return refuse(line_at(text, nul),
                    "NUL bytes: not a text file, or text in an encoding repwatch cannot "
                    "recognise" +
                        hint);
    }
  } else if (utf16 && bom == 0) {
    return refuse(1,
                  "encoding = \"utf-16\" but the file has no byte-order mark and no UTF-16 "
                  "text: set encoding = \"utf-16le\" or \"utf-16be\", or the right one");
  }
  content.drop_prefix(bom);
  text = content.view();

  const std::string charset = lower(from);
  if (from.empty() || charset == "utf-8" || charset == "utf8") {
    size_t bad = content.find_in_windows([](std::string_view w) { return invalid_utf8_at(w); });
    if (bad == std::string_view::npos) return true;
    if (!from.empty())
      return refuse(line_at(text, bad), "not UTF-8 (" + byte_at(text, bad) + ")" + hint);
    // encoding = "auto" and not UTF-8: the lines that are not are read as Windows-1252 (which
    // covers Latin-1's letters), the usual character set of exports from Excel on Windows.
    std::string utf8;
    utf8.reserve(text.size() + text.size() / 8);
    size_t line = 1, first = 0, lines = 0;
    for (size_t pos = 0; pos < text.size(); ++line) {
      size_t end = text.find('\n', pos);
      end = end == std::string_view::npos ? text.size() : end + 1;
      std::string_view one = text.substr(pos, end - pos);
      if (invalid_utf8_at(one) == std::string_view::npos) {
        utf8.append(one);
      } else {
        Converted c = convert_to_utf8(one, "WINDOWS-1252");
        if (!c.ok())
          return refuse(line,
                        "neither UTF-8 nor Windows-1252 (" + byte_at(one, c.bad_at) + ")" + hint);
        utf8 += c.text;
        if (!first) first = line;
        ++lines;
      }
      pos = end;
    }
    spdlog::warn(
        "source {}: {} is not UTF-8 ({} line(s), the first line {}): read as Windows-1252; if "
        "names or accents look wrong, set encoding in the source to the export's character set",
        source_.id, name, lines, first);
    content.replace(std::move(utf8));
    return true;
  }
  Converted c = convert_to_utf8(text, from);
  if (!c.ok()) {
    const size_t line = 1 + static_cast<size_t>(std::count(c.text.begin(), c.text.end(), '\n'));
    return refuse(line, "not " + from + " text (" +
                            (c.bad_at < text.size() ? byte_at(text, c.bad_at)
                                                    : std::string("cut off at the end")) +
                            ")" + hint);
  }
  if (c.text.compare(0, 3, "\xEF\xBB\xBF") == 0) c.text.erase(0, 3);  // "UTF-16" keeps none
  content.replace(std::move(c.text));
  return true;
}

bool FileConnector::import_file(const std::string& name, FileText& content, Parts& parts) const {
  FetchResult& out = parts.out;
  fs::path p(name);
  const Format format = format_of(p);
  if (format == Format::kAuto) {
    out.problems.push_back(
        {name,
         "unknown file format (not .csv, .tsv, .jsonl or .ndjson); set format = \"csv\" or "
         "\"jsonl\" in the source"});
    return false;
  }
  if (!decode(name, content, out)) return false;
  const char delim = delimiter_.value_or(lower(p.extension().string()) == ".tsv" ? '\t' : ',');

  // Where the rows go: one review each (wide), or gathered per respondent (long; the file's
  // respondents are held until its end, their rows may be anywhere in it).
  std::vector<Respondent> respondents;
  std::unordered_map<std::string, size_t> by_id;
  // Wide: the rows whose id another row of the file has too wait for the file's end, where
  // the last one is kept and the others are reported; the rest go out as they come.
  std::unordered_set<size_t> repeated;
  if (!long_) repeated = repeated_ids(name, content, format, delim);
  std::map<std::string, std::vector<std::pair<size_t, Review>>> held;
  RowSink sink = [&](const RowValues& values, size_t line) {
    if (long_) return add_answer(values, name, line, respondents, by_id, out);
    if (!add_review(values, name, line, out)) return;
    Review& r = out.reviews.back();
    if (!repeated.empty() && repeated.count(std::hash<std::string_view>{}(r.external_id))) {
      held[r.external_id].emplace_back(line, std::move(r));
      out.reviews.pop_back();
      return;
    }
    parts.added();
  };
  if (format == Format::kCsv) {
    if (!import_csv(name, content, delim, out, sink)) return false;
  } else {
    import_jsonl(name, content, out, sink, true);
  }
  content.release_all();
  if (long_) add_respondents(respondents, name, out);
  for (auto& [id, rows] : held) {
    for (size_t k = 1; k < rows.size(); ++k)
      out.problems.push_back(
          {name + ":" + std::to_string(rows[k].first),
           field_label(kExternalId) + ": " + quote(id) + " is also on line " +
               std::to_string(rows[k - 1].first) +
               "; this later row is kept (an export with one row per answer needs layout = "
               "\"long\")"});
    out.reviews.push_back(std::move(rows.back().second));
    parts.added();
  }
  parts.added();
  return true;
}

std::unordered_set<size_t> FileConnector::repeated_ids(const std::string& name, FileText& content,
                                                       Format format, char delimiter) const {
  std::vector<size_t> hashes;
  FetchResult scratch;  // the problems are reported by the real read
  RowSink sink = [&](const RowValues& values, size_t line) {
    std::string_view id = values[kExternalId] ? trim(*values[kExternalId]) : std::string_view();
    if (!id.empty()) {
      hashes.push_back(std::hash<std::string_view>{}(id));
    } else if (add_review(values, name, line, scratch)) {  // an id derived from the row
      hashes.push_back(std::hash<std::string_view>{}(scratch.reviews.back().external_id));
    }
    scratch.reviews.clear();
    scratch.problems.clear();
  };
  if (format == Format::kCsv)
    import_csv(name, content, delimiter, scratch, sink);
  else
    import_jsonl(name, content, scratch, sink, false);
  content.release_all();
  std::sort(hashes.begin(), hashes.end());
  std::unordered_set<size_t> out;
  for (size_t k = 1; k < hashes.size(); ++k)
    if (hashes[k] == hashes[k - 1]) out.insert(hashes[k]);
  return out;
}

FetchResult FileConnector::fetch(const std::string& cursor) {
  FetchResult all;
  fetch_parts(cursor, std::numeric_limits<size_t>::max(),
              [&](FetchResult&& part) { all = std::move(part); });
  return all;
}

// How long after its last modification a file is trusted to be whole (not still being copied).
constexpr int64_t kSettleSeconds = 60;

void FileConnector::fetch_parts(const std::string& cursor_text, size_t part_size,
                                const PartSink& deliver) {
  FetchResult result;
  Cursor old;
  if (!cursor_text.empty()) {
    if (auto c = parse_cursor(cursor_text)) {
      old = std::move(*c);
    } else {
      result.problems.push_back(
          {"", "the stored cursor is not one this connector wrote; reading every file again"});
    }
  }
  if (old.settings != fingerprint_) old.files.clear();  // mapping changed: read all again

  std::error_code ec;
  auto status = fs::status(path_, ec);
  if (ec || !fs::exists(status)) {
    throw SourceError(
        SourceError::Kind::kConfig,
        "source " + source_.id + ": path \"" + path_.string() + "\" does not exist" +
            (ec && ec != std::errc::no_such_file_or_directory ? " (" + ec.message() + ")" : ""))
        .advise("The folder or file " + path_.string() +
                " that this source imports is not there: check that the export job still "
                "writes there and that its disk or network share is mounted (or correct path in "
                "the [[sources]] entry \"" +
                source_.id +
                "\" and reload repwatch). repwatch looks again at the next try, and at once "
                "after a reload (sudo systemctl reload repwatchd).");
  }

  // The files to consider, by name relative to path_ (or the file's own name).
  std::vector<std::pair<std::string, fs::path>> files;
  if (fs::is_directory(status)) {
    fs::recursive_directory_iterator it(path_, fs::directory_options::none, ec), end;
    if (ec)
      throw SourceError(SourceError::Kind::kConfig, "source " + source_.id + ": cannot list \"" +
                                                        path_.string() + "\": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) {
        result.problems.push_back({path_.string(), "cannot list: " + ec.message()});
        break;
      }
      std::string fname = it->path().filename().string();
      if (!fname.empty() && fname[0] == '.') {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      bool match = std::any_of(patterns_.begin(), patterns_.end(), [&](const std::string& pat) {
        return ::fnmatch(pat.c_str(), fname.c_str(), 0) == 0;
      });
      if (match) files.emplace_back(it->path().lexically_relative(path_).string(), it->path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.emplace_back(path_.filename().string(), path_);
  }

  Cursor next;
  next.settings = fingerprint_;
  // Before the end, a part's cursor is the files read whole so far plus, for the others, what
  // the previous poll had stored of them: never ahead of what the parts delivered hold. A file
  // cut between parts is read again whole by the poll after an interrupted one (the store
  // finds its first rows unchanged).
  std::set<std::string> started;
  bool problems = false;  // a part delivered before the last had a problem
  Parts parts{result, std::max<size_t>(part_size, 1), [&] {
                Cursor progress = next;
                for (const auto& [name, f] : old.files)
                  if (!started.count(name)) progress.files.emplace(name, f);
                result.cursor = write_cursor(progress);
                result.last = false;
                problems = problems || !result.problems.empty();
                deliver(std::move(result));
                result = FetchResult{};
              }};
  FileText content;
  bool changed = false;      // a file's content changed, a file is new or one is gone
  bool all_read = true;      // every file was imported whole this poll
  int64_t newest_mtime = 0;  // of all the files, in epoch seconds
  std::vector<std::pair<std::string, fs::path>> not_read;  // unchanged, so far not imported
  for (const auto& [name, full] : files) {
    struct stat st {};
    if (::stat(full.c_str(), &st) != 0) {
      result.problems.push_back({name, std::string("cannot stat: ") + std::strerror(errno)});
      continue;
    }
    FileState state;
    state.size = static_cast<uint64_t>(st.st_size);
    state.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    newest_mtime = std::max<int64_t>(newest_mtime, st.st_mtim.tv_sec);
    auto prev = old.files.find(name);
    if (prev != old.files.end() && prev->second.size == state.size &&
        prev->second.mtime_ns == state.mtime_ns) {
      next.files.emplace(name, prev->second);  // unchanged: not opened
      not_read.emplace_back(name, full);
      continue;
    }
    std::string error;
    if (!content.open(full, error)) {
      result.problems.push_back({name, "cannot read: " + error});
      continue;
    }
    state.size = content.size();
    state.hash = hex64(content.hash());
    if (prev != old.files.end() && prev->second.hash == state.hash) {
      next.files.emplace(name, state);  // touched or copied again, same content
      not_read.emplace_back(name, full);
      continue;
    }
    changed = true;
    started.insert(name);
    if (import_file(name, content, parts))
      next.files.emplace(name, state);
    else
      all_read = false;
  }
  for (const auto& [name, state] : old.files)
    if (!next.files.count(name) &&
        std::none_of(files.begin(), files.end(), [&](const auto& f) { return f.first == name; }))
      changed = true;  // gone from the directory
  if (detect_removals_ && changed) {
    // Something changed: read the rest too, so that the poll lists everything the files hold.
    // (Their cursor entries stay what they were: what the parts deliver of them is stored.)
    for (const auto& [name, full] : not_read) {
      std::string error;
      if (!content.open(full, error)) {
        result.problems.push_back({name, "cannot read: " + error});
        all_read = false;
        continue;
      }
      if (!import_file(name, content, parts)) all_read = false;
    }
    result.complete = all_read && !problems && result.problems.empty() &&
                      newest_mtime <= now_seconds() - kSettleSeconds;
  }
  result.cursor = write_cursor(next);
  result.last = true;
  deliver(std::move(result));
}

}  // namespace

std::unique_ptr<Connector> make_file_connector(const SourceConfig& source, const Config& config) {
  return std::make_unique<FileConnector>(source, config);
}

}  // namespace repwatch::connectors
