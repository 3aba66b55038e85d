// repwatch/cli/reply_check_cmd.h - `repwatch reply-check`: does a reply disclose patient
// information? (replies/checker.h does the checking; docs/replies.md explains it.)
//
//   repwatch reply-check "Hi Darnell, sorry your visit ..."   a draft as arguments
//   repwatch reply-check --file draft.txt                     ... in a file ("-": stdin)
//   echo "..." | repwatch reply-check                         ... on standard input
//   repwatch reply-check --review 42 "..."                    knowing the review it answers
//                                                             (its author's name is caught)
//   repwatch reply-check --review 42                          the reply posted under review 42
//   repwatch reply-check --posted [--since 90d] [--source S] [--location L] [--limit N]
//                                                             every stored reply that discloses
//
// Prints the reply with the findings marked, then per kind the words found, why it matters
// and a rewrite hint, and a reply that is always safe to start from; --json for tools.
// Exit codes: 0 nothing found, 3 findings, 1 error (config, database, file), 2 usage.
//
// It needs no database and no config: the word lists are the config's [replies] terms when a
// config is given (--config, $REPWATCH_CONFIG or a readable /etc/repwatch/repwatch.toml), the
// shipped ones otherwise. --review and --posted read the database (read-only).
//
// Wiring (cli/app.cpp), like AlertsCommand: construct before app.parse(), then
//   if (reply_check.selected()) return reply_check.run({...});
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/output.h"

namespace repwatch {
struct Config;
namespace replies {
class Checker;
}
}  // namespace repwatch

namespace repwatch::cli {

// The exit status of a reply with findings.
constexpr int kExitFindings = 3;

struct ReplyCheckRun {
  std::string config_file;  // --config or $REPWATCH_CONFIG; "" = the default, when readable
  std::string db_file;      // --db or $REPWATCH_DB; "" = the config's database
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool stdin_tty = false;  // no draft given and a terminal on stdin: do not wait for it
  int64_t now = 0;
  Format format = Format::kTable;
  Style style;
};

class ReplyCheckCommand {
 public:
  // Adds `reply-check` to `app`.
  explicit ReplyCheckCommand(CLI::App& app);

  bool selected() const;
  int run(const ReplyCheckRun& run) const;

 private:
  // --posted: every stored reply that discloses.
  int check_posted(const ReplyCheckRun& r, const replies::Checker& checker,
                   const Config* config) const;
  // One reply: the draft, or the reply posted under --review.
  int check_one(const ReplyCheckRun& r, const replies::Checker& checker,
                const Config* config) const;
  // The draft from the arguments, --file or standard input; nullopt when none is given.
  std::optional<std::string> read_draft(const ReplyCheckRun& r) const;

  CLI::App* cmd_ = nullptr;
  std::vector<std::string> words_;
  std::string file_;
  std::optional<int64_t> review_;
  bool posted_ = false;
  std::string since_;
  std::vector<std::string> sources_;
  std::vector<std::string> locations_;
  int64_t limit_ = 50;
};

}  // namespace repwatch::cli
