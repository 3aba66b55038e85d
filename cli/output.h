// repwatch/cli/output.h - how every command prints: aligned tables for people, JSON and CSV
// for scripts and spreadsheets, from the same typed rows.
//
//   Table t({{"month", "Month"}, {"rating", "Rating", Align::kRight}});
//   t.add({Value::text("2026-01"), Value::number(4.25, 2)});
//   t.write(out, Format::kTable, style);   // or kJson: [{"month": "2026-01", "rating": 4.25}]
//
// Colors are ANSI and only used when Style::color is set (a TTY without NO_COLOR).
#pragma once

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch::cli {

enum class Format { kTable, kJson, kCsv };

struct Style {
  bool color = false;  // ANSI colors and bold
  bool tty = false;    // stdout is a terminal: sparklines, truncation to the terminal width
  int width = 0;       // terminal columns, 0 when unknown (no truncation)
};

// ANSI styles, each a no-op unless Style::color.
enum class Tone { kPlain, kGood, kBad, kWarn, kDim, kBold, kMatch };
std::string paint(const Style& style, Tone tone, std::string_view text);

// One cell: keeps its type for JSON, shows as text in tables and CSV.
struct Value {
  enum class Kind { kNull, kText, kInteger, kNumber, kBool, kList };
  Kind kind = Kind::kNull;
  std::string str;                 // kText
  int64_t i = 0;                   // kInteger
  double d = 0;                    // kNumber
  int precision = 2;               // kNumber: decimals shown (and kept in JSON)
  bool signed_number = false;      // kNumber: show "+0.12" for positive changes
  bool b = false;                  // kBool
  std::vector<std::string> items;  // kList: JSON array; "a, b, c" in tables and CSV
  Tone tone = Tone::kPlain;        // color in tables
  std::string shown;               // when set, tables show this instead (e.g. highlighted text)

  static Value null() { return {}; }
  static Value text(std::string s);
  static Value integer(int64_t v);
  static Value number(double v, int precision);
  static Value number(std::optional<double> v, int precision);  // null when absent
  static Value change(std::optional<double> v, int precision);  // signed: "+0.12"
  // A change toned good (up) or bad (down) when at least `notable` either way.
  static Value toned_change(std::optional<double> v, int precision, double notable);
  // The difference of two counts, shown signed: "+3", "-2", "+0".
  static Value count_change(int64_t now, int64_t before);
  static Value boolean(bool v);
  static Value list(std::vector<std::string> items);
  Value&& with_tone(Tone t) && {
    tone = t;
    return std::move(*this);
  }
  Value&& with_shown(std::string s) && {
    shown = std::move(s);
    return std::move(*this);
  }

  // As tables and CSV show it ("-" for null in tables, "" in CSV).
  std::string to_text(bool csv = false) const;
};

enum class Align { kLeft, kRight };

struct Column {
  std::string key;     // JSON key and CSV header: snake_case
  std::string header;  // table header
  Align align = Align::kLeft;
  int max_width = 0;  // tables: truncate longer text with "…" (0: no limit)
};

class Table {
 public:
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  void add(std::vector<Value> row);
  // A copy without those of `keys` whose every value is null or empty text (for tables: an
  // Owner column when no touchpoint has an owner).
  Table without_empty(const std::vector<std::string>& keys) const;
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<Column>& columns() const { return columns_; }
  const std::vector<std::vector<Value>>& rows() const { return rows_; }

  // Table: a header, a rule and aligned rows (nothing when empty: the caller says why).
  // JSON: an array of objects. CSV: RFC 4180 with a header line, also when empty.
  void write(std::ostream& out, Format format, const Style& style) const;
  void write_text(std::ostream& out, const Style& style, std::string_view indent = "") const;
  void write_csv(std::ostream& out) const;
  std::string to_json() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Value>> rows_;
};

// Display width of UTF-8 text (code points, ANSI escapes skipped).
size_t display_width(std::string_view text);
// Cuts text to `width` display columns, ending in "…" when cut.
std::string truncate(std::string_view text, size_t width);
// Collapses whitespace runs (newlines in review text) into single spaces.
std::string one_line(std::string_view text);
// One CSV field, quoted when needed.
std::string csv_field(std::string_view text);

// "▁▂▃▄▅▆▇█" for value within [lo, hi]; " " for nullopt.
std::string spark(std::optional<double> value, double lo, double hi);
std::string sparkline(const std::vector<std::optional<double>>& values, double lo, double hi);

// Nested JSON (summary, touchpoints): commands write with a JsonWriter and these helpers.
using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;
void write_json(JsonWriter& w, const Value& value);
void write_json(JsonWriter& w, const Table& table);  // an array of objects
void write_json(JsonWriter& w, std::string_view text);

// Formats v with `precision` decimals, "-0.00" shown as "0.00".
std::string fixed(double v, int precision);
// "+0.12" / "-0.12" / "0.00".
std::string signed_fixed(double v, int precision);
// "12.3%" for a share in 0..1.
std::string percent(double share, int precision = 0);

}  // namespace repwatch::cli
