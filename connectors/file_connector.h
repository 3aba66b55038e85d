// repwatch/connectors/file_connector.h - reviews from JSONL and CSV files in a directory.
//
// For sites with no API (Healthgrades, Vitals, survey vendors' exports): a clinic drops export
// files into a directory and repwatch imports them. Settings (see repwatch.example.toml):
//   path = "/var/lib/repwatch/import/healthgrades"   # directory (or a single file)
//   pattern = "*.csv"                                 # optional glob, default *.csv and *.jsonl
//   scale = "1-5"                                     # rating scale of the export
//   [sources.fields]  external_id = "Review ID", rating = "Stars", text = "Comment", ...
//   encoding = "auto"                                 # or "utf-8", "windows-1252", "utf-16"...
//   layout = "wide"                                   # or "long": one row per survey answer
//   [sources.rating]  question = "NPS", scale = "0-10" (or labels = ["Very poor", ...])
//   [sources.comment] question = ["What went well?", "What could we do better?"]
// Incremental: the cursor records each file's size and modification time; an unchanged file is
// not read again. Bad rows are reported as Problems naming file and line; good rows import.
//
// Encoding: a byte-order mark (UTF-8, UTF-16, UTF-32) decides; otherwise `encoding` (any name
// iconv(3) knows). "auto" takes UTF-8, reads each line that is not UTF-8 as Windows-1252 (a
// superset of Latin-1's letters: Excel on Windows) with a warning in the log, and recognises
// UTF-16 without a mark by its NUL bytes. A file that is not text in its encoding is not
// imported; the problem names file, line and byte (never the raw bytes).
//
// Layout "long" (patient-survey exports, one row per answer): fields.external_id is the
// respondent, fields.question (id) and/or fields.question_text (wording) say which question a
// row answers, fields.answer holds the answer. A respondent's rows make one review: the answer
// to the [sources.rating] question is the rating on that table's scale (numbers, yes/no on
// "binary", or `labels` from the lowest point up; "N/A", "Declined"... mean no rating), the
// answers to the [sources.comment] questions, in order, the text; the earliest date is
// created_at. Other questions are ignored; a respondent who answered neither is no review.
// Layout "wide" reports an id repeated within one file (the later row is kept).
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_file_connector(const SourceConfig& source, const Config& config);

}  // namespace repwatch::connectors
