// repwatch/connectors/file_connector.h - reviews from JSONL and CSV files in a directory.
//
// For sites with no API (Healthgrades, Vitals, survey vendors' exports): a clinic drops export
// files into a directory and repwatch imports them. Settings (see repwatch.example.toml):
//   path = "/var/lib/repwatch/import/healthgrades"   # directory (or a single file)
//   pattern = "*.csv"                                 # optional glob, default *.csv and *.jsonl
//   scale = "1-5"                                     # rating scale of the export
//   [sources.fields]  external_id = "Review ID", rating = "Stars", text = "Comment", ...
// Incremental: the cursor records each file's size and modification time; an unchanged file is
// not read again. Bad rows are reported as Problems naming file and line; good rows import.
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_file_connector(const SourceConfig& source, const Config& config);

}  // namespace repwatch::connectors
