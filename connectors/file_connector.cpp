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
#include "connectors/file_connector.h"

#include <fnmatch.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/csv.h"
#include "core/error.h"
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
  kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "external_id", "author",   "rating", "text",     "created_at", "updated_at",
    "reply_text",  "reply_at", "url",    "language", "location"};

enum class Format { kAuto, kCsv, kJsonl };

// ---- small helpers -----------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A quoted, shortened rendering of a bad value for messages.
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
    out += c;
  }
  return out + "\"";
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

// ---- the connector -----------------------------------------------------------------------

class FileConnector : public Connector {
 public:
  FileConnector(const SourceConfig& source, const Config& config);
  FetchResult fetch(const std::string& cursor) override;

 private:
  // Reads one file into `out`; returns false when the file as a whole could not be used.
  bool import_file(const std::string& name, std::string& content, FetchResult& out) const;
  bool import_csv(const std::string& name, std::string_view content, char delimiter,
                  FetchResult& out) const;
  void import_jsonl(const std::string& name, std::string& content, FetchResult& out) const;
  // Turns one row into a review, or reports why it cannot.
  void add_review(const RowValues& values, const std::string& file, size_t line,
                  FetchResult& out) const;
  std::optional<int64_t> parse_time(std::string_view text) const;
  std::optional<double> parse_rating(std::string_view text, std::string& error) const;
  std::string field_label(Field f) const;
  Format format_of(const fs::path& file) const;

  SourceConfig source_;
  fs::path path_;
  std::vector<std::string> patterns_;
  Format format_ = Format::kAuto;
  std::optional<char> delimiter_;
  RatingScale scale_ = RatingScale::stars();
  int64_t utc_offset_ = 0;
  std::string date_format_;
  std::array<std::string, kFieldCount> columns_;            // column name / JSON key per field
  std::array<bool, kFieldCount> explicit_{};                // mapped in [sources.fields]
  std::unordered_map<std::string, std::string> locations_;  // id and lower-cased name -> id
  std::string fingerprint_;
};

FileConnector::FileConnector(const SourceConfig& source, const Config& config) : source_(source) {
  const Settings& s = source.settings;
  std::vector<std::string_view> allowed = common_source_keys();
  for (auto k :
       {"path", "pattern", "format", "delimiter", "scale", "utc_offset", "date_format", "fields"})
    allowed.push_back(k);
  s.reject_unknown(allowed);

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
  if (auto sc = s.string("scale")) {
    try {
      scale_ = RatingScale::parse(*sc);
    } catch (const ConfigError& e) {
      s.fail("scale", e.what());
    }
  }
  if (auto off = s.string("utc_offset")) {
    auto v = parse_offset(*off);
    if (!v)
      s.fail("utc_offset", "expected an offset like \"-05:00\" or \"UTC\", got " + quote(*off));
    utc_offset_ = *v;
  }
  date_format_ = s.string_or("date_format", "");

  Settings fields = s.table("fields");
  fields.reject_unknown({kFieldNames.begin(), kFieldNames.end()});
  for (size_t i = 0; i < kFieldCount; ++i) {
    columns_[i] = std::string(kFieldNames[i]);
    if (auto col = fields.string(kFieldNames[i])) {
      if (col->empty()) fields.fail(kFieldNames[i], "must name a column or key, got \"\"");
      columns_[i] = *col;
      explicit_[i] = true;
    }
  }

  for (const auto& loc : config.locations) {
    locations_.emplace(loc.id, loc.id);
    locations_.emplace(lower(loc.name), loc.id);
  }

  // Everything that shapes the reviews made from a file: when it changes, files are re-read.
  std::string shape = source_.location + '\x1f' + scale_.to_string() + '\x1f' +
                      std::to_string(utc_offset_) + '\x1f' + date_format_ + '\x1f' +
                      std::to_string(static_cast<int>(format_)) + '\x1f' +
                      std::string(1, delimiter_.value_or(',')) + '\x1f';
  for (const auto& c : columns_) shape += c + '\x1f';
  fingerprint_ = hex64(hash_bytes(shape));
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
  text = trim(text);
  if (text.empty() || scale_.kind == RatingScale::Kind::kNone) return std::nullopt;
  if (scale_.kind == RatingScale::Kind::kBinary) {
    std::string v = lower(text);
    if (v == "1" || v == "true" || v == "yes" || v == "y" || v == "recommend" ||
        v == "recommended" || v == "recommends" || v == "positive")
      return 1.0;
    if (v == "0" || v == "false" || v == "no" || v == "n" || v == "not recommend" ||
        v == "not recommended" || v == "does not recommend" || v == "negative")
      return 0.0;
    error = "expected recommend / not recommend (1/0, yes/no), got " + quote(text);
    return std::nullopt;
  }
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    // Google's starRating enum on the 1-5 scale.
    if (scale_ == RatingScale::stars()) {
      static const std::array<std::string_view, 5> words = {"one", "two", "three", "four", "five"};
      std::string w = lower(text);
      for (size_t i = 0; i < words.size(); ++i)
        if (w == words[i]) return static_cast<double>(i + 1);
      if (w == "star_rating_unspecified") return std::nullopt;
    }
    error = "not a number " + quote(text);
    return std::nullopt;
  }
  if (v < scale_.lo || v > scale_.hi) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    error = std::string(buf) + " is outside the scale " + scale_.to_string();
    return std::nullopt;
  }
  return v;
}

void FileConnector::add_review(const RowValues& values, const std::string& file, size_t line,
                               FetchResult& out) const {
  auto problem = [&](Field f, const std::string& msg) {
    out.problems.push_back({file + ":" + std::to_string(line), field_label(f) + ": " + msg});
  };
  auto text_of = [&](Field f) -> std::string_view {
    return values[f] ? *values[f] : std::string_view();
  };

  Review r;
  r.source_id = source_.id;
  r.location_id = source_.location;
  r.scale = scale_;

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
    auto it = locations_.find(std::string(loc));
    if (it == locations_.end()) it = locations_.find(lower(loc));
    if (it == locations_.end())
      return problem(kLocation, "no [[locations]] entry has the id or name " + quote(loc));
    r.location_id = it->second;
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
}

bool FileConnector::import_csv(const std::string& name, std::string_view content, char delimiter,
                               FetchResult& out) const {
  csv::Reader reader(content, delimiter);
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
    for (size_t i = 0; i < header.size() && index[f] < 0; ++i)
      if (header[i] == columns_[f]) index[f] = static_cast<int>(i);
    for (size_t i = 0; i < header.size() && index[f] < 0; ++i)
      if (lower(header[i]) == lower(columns_[f])) index[f] = static_cast<int>(i);
  }
  std::vector<std::string> missing;
  for (size_t f = 0; f < kFieldCount; ++f)
    if (explicit_[f] && index[f] < 0) missing.push_back(field_label(static_cast<Field>(f)));
  if (index[kCreatedAt] < 0 && !explicit_[kCreatedAt]) missing.push_back(field_label(kCreatedAt));
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
    add_review(values, name, rec.line, out);
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

void FileConnector::import_jsonl(const std::string& name, std::string& content,
                                 FetchResult& out) const {
  size_t pos = 0;
  size_t line = 0;
  if (content.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
  char alloc_buffer[16384];
  std::array<std::string, kFieldCount> scratch;  // numbers and booleans as text
  RowValues values;
  while (pos < content.size()) {
    ++line;
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    std::string_view text = trim(std::string_view(content).substr(pos, end - pos));
    auto where = [&] { return name + ":" + std::to_string(line); };
    pos = end + 1;
    if (text.empty()) continue;

    // Parse in place: the line is NUL-terminated in our own copy of the file.
    char* begin = content.data() + (text.data() - content.data());
    begin[text.size()] = '\0';
    rapidjson::MemoryPoolAllocator<> allocator(alloc_buffer, sizeof alloc_buffer);
    rapidjson::Document doc(&allocator);
    // Iterative: a line of 100,000 '[' would overflow the stack of the recursive parser and
    // take the daemon down (found by fuzz/fuzz_file_import).
    doc.ParseInsitu<rapidjson::kParseIterativeFlag>(begin);
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
    if (ok) add_review(values, name, line, out);
  }
}

bool FileConnector::import_file(const std::string& name, std::string& content,
                                FetchResult& out) const {
  fs::path p(name);
  switch (format_of(p)) {
    case Format::kCsv: {
      char delim = delimiter_.value_or(lower(p.extension().string()) == ".tsv" ? '\t' : ',');
      return import_csv(name, content, delim, out);
    }
    case Format::kJsonl:
      import_jsonl(name, content, out);
      return true;
    case Format::kAuto:
      break;
  }
  out.problems.push_back(
      {name,
       "unknown file format (not .csv, .tsv, .jsonl or .ndjson); set format = \"csv\" or "
       "\"jsonl\" in the source"});
  return false;
}

bool read_whole(const fs::path& p, uint64_t size, std::string& out, std::string& error) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  out.resize(size);
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<size_t>(in.gcount()));
  // The file may have grown since stat(): read the rest too.
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    out.append(buf, static_cast<size_t>(in.gcount()));
  if (in.bad()) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

FetchResult FileConnector::fetch(const std::string& cursor_text) {
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
  std::string content;
  for (const auto& [name, full] : files) {
    struct stat st {};
    if (::stat(full.c_str(), &st) != 0) {
      result.problems.push_back({name, std::string("cannot stat: ") + std::strerror(errno)});
      continue;
    }
    FileState state;
    state.size = static_cast<uint64_t>(st.st_size);
    state.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    auto prev = old.files.find(name);
    if (prev != old.files.end() && prev->second.size == state.size &&
        prev->second.mtime_ns == state.mtime_ns) {
      next.files.emplace(name, prev->second);  // unchanged: not opened
      continue;
    }
    std::string error;
    if (!read_whole(full, state.size, content, error)) {
      result.problems.push_back({name, "cannot read: " + error});
      continue;
    }
    state.size = content.size();
    state.hash = hex64(hash_bytes(content));
    if (prev != old.files.end() && prev->second.hash == state.hash) {
      next.files.emplace(name, state);  // touched or copied again, same content
      continue;
    }
    if (import_file(name, content, result)) next.files.emplace(name, state);
  }
  result.cursor = write_cursor(next);
  return result;
}

}  // namespace

std::unique_ptr<Connector> make_file_connector(const SourceConfig& source, const Config& config) {
  return std::make_unique<FileConnector>(source, config);
}

}  // namespace repwatch::connectors
