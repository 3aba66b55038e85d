// repwatch/sentiment/from_config.h - the analyzer a repwatch.toml asks for.
//
//   [sentiment]
//   lexicon = "/etc/repwatch/lexicon.tsv"     # optional: the shipped lexicon when left out
//   taxonomy = "/etc/repwatch/taxonomy.toml"  # optional: the shipped taxonomy when left out
//
// repwatchd scores with it, and `repwatch` (touchpoint names, `rescore`) reads the same files.
#pragma once

#include "config/config.h"
#include "sentiment/analyzer.h"

namespace repwatch::sentiment {

// Analyzer::builtin() when neither key is set, else load_or_builtin() of the files named.
// Throws ConfigError naming the file and line of a lexicon or taxonomy that does not load.
// (Unknown keys in [sentiment] are the caller's to reject: repwatchd does, at start.)
Analyzer analyzer_for(const Config& config);

}  // namespace repwatch::sentiment
