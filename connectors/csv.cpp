#include "connectors/csv.h"

#include <algorithm>
#include <cstring>

namespace repwatch::connectors::csv {

Reader::Reader(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool Reader::next(Record& out) {
  const size_t n = text_.size();
  const char* data = text_.data();

  // Skip blank lines ("\n" or "\r\n" alone).
  while (pos_ < n) {
    if (data[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (data[pos_] == '\r' && pos_ + 1 < n && data[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else {
      break;
    }
  }
  if (pos_ >= n) return false;

  out.line = line_;
  out.error.clear();
  size_t count = 0;
  auto next_field = [&out, &count]() -> std::string& {
    if (count == out.fields.size()) out.fields.emplace_back();
    std::string& f = out.fields[count++];
    f.clear();
    return f;
  };

  while (true) {
    std::string& field = next_field();
    if (pos_ < n && data[pos_] == '"') {
      // Quoted field: runs to the next quote that is not doubled.
      const size_t open_line = line_;
      ++pos_;
      while (true) {
        const char* q = static_cast<const char*>(std::memchr(data + pos_, '"', n - pos_));
        size_t end = q ? static_cast<size_t>(q - data) : n;
        field.append(data + pos_, end - pos_);
        line_ += static_cast<size_t>(std::count(data + pos_, data + end, '\n'));
        if (!q) {
          pos_ = n;
          if (out.error.empty())
            out.error =
                "quoted field opened on line " + std::to_string(open_line) + " is never closed";
          break;
        }
        if (end + 1 < n && data[end + 1] == '"') {
          field += '"';
          pos_ = end + 2;
          continue;
        }
        pos_ = end + 1;
        break;
      }
      // After the closing quote: a delimiter, a line end or the end of the text.
      if (pos_ < n && data[pos_] != delimiter_ && data[pos_] != '\n' &&
          !(data[pos_] == '\r' && (pos_ + 1 == n || data[pos_ + 1] == '\n'))) {
        if (out.error.empty()) out.error = "unexpected text after a closing quote";
        size_t start = pos_;
        while (pos_ < n && data[pos_] != delimiter_ && data[pos_] != '\n') ++pos_;
        size_t end = pos_;
        if (end > start && data[end - 1] == '\r' && (end == n || data[end] == '\n')) --end;
        field.append(data + start, end - start);
      } else if (pos_ < n && data[pos_] == '\r') {
        ++pos_;  // the CR of a CRLF (or a final CR)
      }
    } else {
      size_t start = pos_;
      while (pos_ < n && data[pos_] != delimiter_ && data[pos_] != '\n') ++pos_;
      size_t end = pos_;
      if (end > start && data[end - 1] == '\r' && (end == n || data[end] == '\n')) --end;
      field.assign(data + start, end - start);
    }

    if (pos_ < n && data[pos_] == delimiter_) {
      ++pos_;
      if (pos_ == n) {  // a trailing delimiter at the very end: one more, empty field
        next_field();
        break;
      }
      continue;
    }
    if (pos_ < n && data[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
    break;
  }
  out.fields.resize(count);
  return true;
}

}  // namespace repwatch::connectors::csv
