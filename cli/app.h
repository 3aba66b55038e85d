// repwatch/cli/app.h - the `repwatch` command line: CLI11 wiring around cli/commands.h.
//
//   int main(int argc, char** argv) {
//     return repwatch::cli::run_cli(argc, argv, std::cout, std::cerr,
//                                   repwatch::cli::Environment::from_process());
//   }
//
// Exit codes: 0 ok, 1 error (database, files), 2 usage (options, names, dates); reply-check:
// 3 the reply discloses patient information.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace repwatch::cli {

// What the command line depends on besides its arguments, so tests can fix it.
struct Environment {
  int64_t now = 0;             // UTC epoch seconds
  bool stdout_tty = false;     // tables get sparklines, colors and the terminal's width
  int terminal_width = 0;      // 0: unknown
  bool no_color = false;       // NO_COLOR is set (https://no-color.org)
  std::string config_file;     // $REPWATCH_CONFIG, "" when unset
  std::string db_file;         // $REPWATCH_DB, "" when unset
  std::istream* in = nullptr;  // standard input (`reply-check` reads a draft); null: std::cin
  bool stdin_tty = false;      // standard input is a terminal (then nothing is read from it)

  static Environment from_process();
};

// The default config file when neither --config, --db nor $REPWATCH_CONFIG say otherwise.
constexpr const char* kDefaultConfig = "/etc/repwatch/repwatch.toml";

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            const Environment& env);
// The same with the arguments after the program name.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const Environment& env);

}  // namespace repwatch::cli
