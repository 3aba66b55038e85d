#include "cli/output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace repwatch::cli {

std::string paint(const Style& style, Tone tone, std::string_view text) {
  if (!style.color || tone == Tone::kPlain || text.empty()) return std::string(text);
  const char* code = "";
  switch (tone) {
    case Tone::kPlain:
      break;
    case Tone::kGood:
      code = "\x1b[32m";
      break;
    case Tone::kBad:
      code = "\x1b[31m";
      break;
    case Tone::kWarn:
      code = "\x1b[33m";
      break;
    case Tone::kDim:
      code = "\x1b[2m";
      break;
    case Tone::kBold:
      code = "\x1b[1m";
      break;
    case Tone::kMatch:
      code = "\x1b[1;33m";
      break;
  }
  return std::string(code) + std::string(text) + "\x1b[0m";
}

std::string fixed(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  std::string s = buf;
  // "-0.00" -> "0.00"
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string signed_fixed(double v, int precision) {
  std::string s = fixed(v, precision);
  if (s[0] != '-' && s.find_first_not_of("0.") != std::string::npos) s.insert(0, "+");
  return s;
}

std::string percent(double share, int precision) { return fixed(share * 100, precision) + "%"; }

Value Value::text(std::string s) {
  Value v;
  v.kind = Kind::kText;
  v.str = std::move(s);
  return v;
}
Value Value::integer(int64_t n) {
  Value v;
  v.kind = Kind::kInteger;
  v.i = n;
  return v;
}
Value Value::number(double x, int precision) {
  Value v;
  if (!std::isfinite(x)) return v;
  v.kind = Kind::kNumber;
  v.d = x;
  v.precision = precision;
  return v;
}
Value Value::number(std::optional<double> x, int precision) {
  return x ? number(*x, precision) : Value();
}
Value Value::change(std::optional<double> x, int precision) {
  Value v = number(x, precision);
  v.signed_number = true;
  return v;
}
Value Value::toned_change(std::optional<double> x, int precision, double notable) {
  Value v = change(x, precision);
  if (v.kind == Kind::kNumber && std::abs(v.d) >= notable)
    v.tone = v.d < 0 ? Tone::kBad : Tone::kGood;
  return v;
}
Value Value::count_change(int64_t now, int64_t before) {
  Value v = integer(now - before);
  v.shown = (now >= before ? "+" : "") + std::to_string(now - before);
  return v;
}
Value Value::boolean(bool x) {
  Value v;
  v.kind = Kind::kBool;
  v.b = x;
  return v;
}
Value Value::list(std::vector<std::string> items) {
  Value v;
  v.kind = Kind::kList;
  v.items = std::move(items);
  return v;
}

std::string Value::to_text(bool csv) const {
  switch (kind) {
    case Kind::kNull:
      return csv ? "" : "-";
    case Kind::kText:
      return str;
    case Kind::kInteger:
      return std::to_string(i);
    case Kind::kNumber:
      return signed_number ? signed_fixed(d, precision) : fixed(d, precision);
    case Kind::kBool:
      return b ? "yes" : "no";
    case Kind::kList: {
      std::string s;
      for (const auto& item : items) {
        if (!s.empty()) s += csv ? "; " : ", ";
        s += item;
      }
      return s;
    }
  }
  return "";
}

// ---- text helpers ------------------------------------------------------------------------

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b) {  // CSI ... final byte
      ++i;
      if (i < text.size() && text[i] == '[') {
        while (++i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) {
        }
      }
      continue;
    }
    if ((c & 0xC0) != 0x80) ++width;  // not a continuation byte
  }
  return width;
}

std::string truncate(std::string_view text, size_t width) {
  if (display_width(text) <= width) return std::string(text);
  if (width == 0) return "";
  std::string out;
  size_t w = 0;
  bool colored = false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b) {
      size_t start = i;
      ++i;
      if (i < text.size() && text[i] == '[') {
        while (++i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) {
        }
      }
      out.append(text.substr(start, i - start + 1));
      colored = true;
      continue;
    }
    if ((c & 0xC0) != 0x80) {
      if (w + 1 == width) break;
      ++w;
    }
    out.push_back(static_cast<char>(c));
  }
  out += "…";
  if (colored) out += "\x1b[0m";
  return out;
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

namespace {

// A number as CSV writes them ("-0.42", "+3", "1e-5"): left alone by the formula guard.
bool is_number(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digits = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') {
      return false;
    }
  }
  return digits;
}

}  // namespace

std::string csv_field(std::string_view text) {
  // CSV/formula injection (CWE-1236): a spreadsheet runs a field that starts with = + - @ (or
  // a tab/CR before one) as a formula - a review reading =HYPERLINK("http://evil",...) would.
  // Such a field (unless it is a plain number) gets a leading apostrophe, which spreadsheets
  // show as text.
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos &&
      !is_number(text))
    return csv_field("'" + std::string(text));
  if (text.find_first_of(",\"\r\n") == std::string_view::npos &&
      (text.empty() || (text.front() != ' ' && text.back() != ' ')))
    return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string spark(std::optional<double> value, double lo, double hi) {
  static const char* const kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (!value || !std::isfinite(*value)) return " ";
  double t = hi > lo ? (*value - lo) / (hi - lo) : 0.5;
  int i = static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * 7));
  return kBars[i];
}

std::string sparkline(const std::vector<std::optional<double>>& values, double lo, double hi) {
  std::string s;
  for (const auto& v : values) s += spark(v, lo, hi);
  return s;
}

// ---- Table -------------------------------------------------------------------------------

void Table::add(std::vector<Value> row) {
  row.resize(columns_.size());
  rows_.push_back(std::move(row));
}

Table Table::without_empty(const std::vector<std::string>& keys) const {
  std::vector<size_t> keep;
  for (size_t c = 0; c < columns_.size(); ++c) {
    bool drop = std::find(keys.begin(), keys.end(), columns_[c].key) != keys.end();
    if (drop)
      for (const auto& row : rows_)
        if (row[c].kind != Value::Kind::kNull &&
            !(row[c].kind == Value::Kind::kText && row[c].str.empty()))
          drop = false;
    if (!drop) keep.push_back(c);
  }
  std::vector<Column> cols;
  for (size_t c : keep) cols.push_back(columns_[c]);
  Table t(std::move(cols));
  for (const auto& row : rows_) {
    std::vector<Value> r;
    for (size_t c : keep) r.push_back(row[c]);
    t.add(std::move(r));
  }
  return t;
}

void Table::write(std::ostream& out, Format format, const Style& style) const {
  switch (format) {
    case Format::kTable:
      write_text(out, style);
      break;
    case Format::kCsv:
      write_csv(out);
      break;
    case Format::kJson:
      out << to_json() << "\n";
      break;
  }
}

void Table::write_text(std::ostream& out, const Style& style, std::string_view indent) const {
  if (rows_.empty()) return;
  size_t n = columns_.size();
  std::vector<std::vector<std::string>> cells(rows_.size(), std::vector<std::string>(n));
  std::vector<size_t> width(n);
  for (size_t c = 0; c < n; ++c) width[c] = display_width(columns_[c].header);
  for (size_t r = 0; r < rows_.size(); ++r) {
    for (size_t c = 0; c < n; ++c) {
      const Value& v = rows_[r][c];
      std::string s = v.shown.empty() ? v.to_text() : v.shown;
      if (v.kind == Value::Kind::kText || !v.shown.empty()) s = one_line(s);
      if (columns_[c].max_width > 0) s = truncate(s, columns_[c].max_width);
      width[c] = std::max(width[c], display_width(s));
      cells[r][c] = std::move(s);
    }
  }
  // On a terminal, shrink the widest left-aligned (text) column so lines fit.
  if (style.width > 0) {
    size_t total = indent.size();
    for (size_t c = 0; c < n; ++c) total += width[c] + (c + 1 < n ? 2 : 0);
    while (total > static_cast<size_t>(style.width)) {
      size_t widest = n;
      for (size_t c = 0; c < n; ++c)
        if (columns_[c].align == Align::kLeft && width[c] > 12 &&
            (widest == n || width[c] > width[widest]))
          widest = c;
      if (widest == n) break;
      size_t cut = std::min(width[widest] - 12, total - static_cast<size_t>(style.width));
      width[widest] -= cut;
      total -= cut;
      for (auto& row : cells) row[widest] = truncate(row[widest], width[widest]);
    }
  }
  auto pad = [&](std::string_view s, size_t c, bool last) {
    size_t w = display_width(s);
    std::string gap(width[c] > w ? width[c] - w : 0, ' ');
    if (columns_[c].align == Align::kRight) return gap + std::string(s);
    return last ? std::string(s) : std::string(s) + gap;
  };
  std::string line(indent);
  for (size_t c = 0; c < n; ++c) {
    line += pad(columns_[c].header, c, c + 1 == n);
    if (c + 1 < n) line += "  ";
  }
  out << paint(style, Tone::kBold, line) << "\n";
  line = std::string(indent);
  for (size_t c = 0; c < n; ++c) {
    for (size_t i = 0; i < width[c]; ++i) line += "-";
    if (c + 1 < n) line += "  ";
  }
  out << paint(style, Tone::kDim, line) << "\n";
  for (size_t r = 0; r < rows_.size(); ++r) {
    line = std::string(indent);
    for (size_t c = 0; c < n; ++c) {
      std::string cell = pad(cells[r][c], c, c + 1 == n);
      line += paint(style, rows_[r][c].tone, cell);
      if (c + 1 < n) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

void Table::write_csv(std::ostream& out) const {
  for (size_t c = 0; c < columns_.size(); ++c) out << (c ? "," : "") << csv_field(columns_[c].key);
  out << "\r\n";
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns_.size(); ++c)
      out << (c ? "," : "") << csv_field(row[c].to_text(true));
    out << "\r\n";
  }
}

void write_json(JsonWriter& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void write_json(JsonWriter& w, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      w.Null();
      break;
    case Value::Kind::kText:
      write_json(w, v.str);
      break;
    case Value::Kind::kInteger:
      w.Int64(v.i);
      break;
    case Value::Kind::kNumber: {
      double scale = std::pow(10.0, v.precision);
      double rounded = std::round(v.d * scale) / scale;
      if (rounded == 0) rounded = 0;  // no -0
      w.Double(rounded);
      break;
    }
    case Value::Kind::kBool:
      w.Bool(v.b);
      break;
    case Value::Kind::kList:
      w.StartArray();
      for (const auto& item : v.items) write_json(w, item);
      w.EndArray();
      break;
  }
}

void write_json(JsonWriter& w, const Table& t) {
  w.StartArray();
  for (const auto& row : t.rows()) {
    w.StartObject();
    for (size_t c = 0; c < t.columns().size(); ++c) {
      w.Key(t.columns()[c].key.c_str());
      write_json(w, row[c]);
    }
    w.EndObject();
  }
  w.EndArray();
}

std::string Table::to_json() const {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetIndent(' ', 2);
  write_json(w, *this);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace repwatch::cli
