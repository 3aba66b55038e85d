// repwatch/connectors/csv.h - an RFC 4180 CSV reader for export files.
//
//   csv::Reader reader(text);            // text must outlive the reader
//   csv::Record rec;
//   while (reader.next(rec)) { rec.fields, rec.line, rec.error ... }
//
// Handles what real exports contain: quoted fields with embedded delimiters, doubled quotes
// ("" inside quotes is one "), line breaks inside quotes, CRLF or LF line ends, a UTF-8 byte
// order mark, a missing final line break. Blank lines are skipped. Lenient where RFC 4180 is
// strict but the meaning is clear (a quote inside an unquoted field is kept as is); a record
// that cannot be read as intended (text after a closing quote, a quote never closed) is still
// returned, with `error` saying what is wrong, so the caller can report it by line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace repwatch::connectors::csv {

struct Record {
  std::vector<std::string> fields;
  size_t line = 0;    // 1-based line the record starts on (a record may span lines)
  std::string error;  // empty when the record is well-formed
};

class Reader {
 public:
  explicit Reader(std::string_view text, char delimiter = ',');

  // Reads the next record into `out` (reusing its storage); false at the end of the text.
  bool next(Record& out);

  // The line the next record would start on.
  size_t line() const { return line_; }
  // The byte offset in the text where the next record would start (what is before it has been
  // read: a caller may give that memory back).
  size_t offset() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  char delimiter_;
};

}  // namespace repwatch::connectors::csv
