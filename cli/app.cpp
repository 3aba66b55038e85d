#include "cli/app.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "alerts/rules.h"
#include "cli/access.h"
#include "cli/alerts_cmd.h"
#include "cli/commands.h"
#include "cli/reply_check_cmd.h"
#include "cli/report.h"
#include "core/time.h"
#include "db/query_index.h"
#include "db/store.h"
#include "sentiment/analyzer.h"
#include "sentiment/from_config.h"

namespace repwatch::cli {

Environment Environment::from_process() {
  Environment env;
  env.now = now_seconds();
  env.stdout_tty = isatty(STDOUT_FILENO) == 1;
  env.stdin_tty = isatty(STDIN_FILENO) == 1;
  if (env.stdout_tty) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) env.terminal_width = ws.ws_col;
  }
  const char* no_color = std::getenv("NO_COLOR");
  env.no_color = no_color && *no_color;
  const char* term = std::getenv("TERM");
  if (term && std::string(term) == "dumb") env.no_color = true;
  if (const char* c = std::getenv("REPWATCH_CONFIG")) env.config_file = c;
  if (const char* d = std::getenv("REPWATCH_DB")) env.db_file = d;
  return env;
}

namespace {

// Global options, filled by CLI11.
struct Globals {
  std::string config;
  std::string db;
  bool json = false;
  bool csv = false;
  std::string color = "auto";
};

// Which of the filter options (cli/commands.h FilterArgs) a command takes.
struct FilterOptions {
  bool time = false;          // --since, --until
  bool places = false;        // --source, --location
  bool touchpoints = false;   // --touchpoint
  bool review_level = false;  // --negative, --unanswered, --rating
};
constexpr FilterOptions kEveryFilter{
    .time = true, .places = true, .touchpoints = true, .review_level = true};

void add_filters(CLI::App* cmd, FilterArgs& f, FilterOptions which) {
  const char* g = "Filters (see `repwatch help filters`)";
  if (which.time) {
    cmd->add_option("--since", f.since, "Reviews written at or after WHEN: 2026-01-31, 30d, 3mo")
        ->option_text("WHEN")
        ->group(g);
    cmd->add_option("--until", f.until, "Reviews written before WHEN (a bare date: through it)")
        ->option_text("WHEN")
        ->group(g);
  }
  if (which.places) {
    cmd->add_option("--source", f.sources, "Source id or type (repeat or comma-separate)")
        ->option_text("NAME")
        ->allow_extra_args(false)
        ->group(g);
    cmd->add_option("--location", f.locations, "Location id or name")
        ->option_text("NAME")
        ->allow_extra_args(false)
        ->group(g);
  }
  if (which.touchpoints)
    cmd->add_option("--touchpoint", f.touchpoints, "Reviews mentioning this touchpoint")
        ->option_text("NAME")
        ->allow_extra_args(false)
        ->group(g);
  cmd->add_flag("--include-removed", f.include_removed,
                "Also reviews removed at their source (deleted there; kept here)")
      ->group(g);
  if (which.review_level) {
    cmd->add_flag("--negative", f.negative, "Only negative reviews")->group(g);
    cmd->add_flag("--unanswered", f.unanswered, "Only reviews without a reply")->group(g);
    cmd->add_option("--rating", f.rating, "Normalized rating: 5, 4-5, 1-2, <=2, >=4")
        ->option_text("RANGE")
        ->group(g);
  }
}

void add_period(CLI::App* cmd, PeriodArgs& p) {
  const char* g = "Period";
  cmd->add_option("--period", p.period,
                  "Length ending today (30d default, 4w, 3mo) or a month (2026-01); compared "
                  "with the period before")
      ->option_text("LENGTH")
      ->group(g);
  cmd->add_option("--since", p.since, "Start the period here instead")
      ->option_text("WHEN")
      ->group(g);
  cmd->add_option("--until", p.until, "End the period here (a bare date: through it)")
      ->option_text("WHEN")
      ->group(g);
}

std::string examples(std::initializer_list<const char*> lines) {
  std::string s = "\nExamples:\n";
  for (const char* l : lines) s += std::string("  ") + l + "\n";
  return s;
}

// The analyzer of the config (as repwatchd loads it), or the shipped one without a config.
sentiment::Analyzer load_analyzer(const Config* config) {
  return config ? sentiment::analyzer_for(*config) : sentiment::Analyzer::builtin();
}

std::vector<sentiment::Touchpoint> load_taxonomy(const Config* config) {
  return load_analyzer(config).touchpoints();
}

// `repwatch rescore`: analyses every stored review again with the current lexicon and taxonomy
// (after an edit of either), in transactions of `batch` reviews, keyed by id so a run can be
// repeated or interrupted. Stored reviews stay as they are; their analyses, touchpoint hits,
// sentiment/label/negative summary and the aggregates (through the store and its triggers)
// follow. No alert is sent for a rescored review. `outdated_only`: only reviews analysed with
// another lexicon or taxonomy version.
int rescore(const std::string& db_file, const Config* config, bool outdated_only, int64_t batch,
            int64_t now, std::ostream& out) {
  sentiment::Analyzer analyzer = load_analyzer(config);
  db::NegativeRule rule;
  if (config)
    rule = alerts::negative_rule(alerts::load_alerts_config(*config, analyzer.touchpoints()));
  db::Database db = db::open_store(db_file);  // read-write: also brings the schema up to date
  db::ReviewStore store(db, rule);
  const db::RescoreSelection selection{outdated_only, analyzer.lexicon_version(),
                                       analyzer.taxonomy_version()};
  int64_t last = 0, done = 0, relabelled = 0, failed = 0;
  for (;;) {
    db::Transaction tx(db);
    std::vector<db::ReviewRow> rows = db::reviews_to_rescore(db, last, batch, selection);
    if (rows.empty()) break;
    for (const db::ReviewRow& row : rows) {
      Analysis a;
      try {
        // As repwatchd does: on the source's translation of a review in another language.
        a = analyze_review(row.review,
                           [&](std::string_view text) { return analyzer.analyze(text); });
      } catch (const std::exception&) {
        a = Analysis{};
        a.scored = false;
        ++failed;
      }
      if (a.label != row.analysis.label) ++relabelled;
      store.save_analysis(row.id, a, now);
      last = row.id;
      ++done;
    }
    tx.commit();
  }
  out << "rescored " << done << " review" << (done == 1 ? "" : "s") << " with lexicon "
      << analyzer.lexicon_version();
  if (!analyzer.taxonomy_version().empty()) out << " and taxonomy " << analyzer.taxonomy_version();
  out << " in " << db_file << ": " << relabelled << " changed label";
  if (failed) out << ", " << failed << " could not be analysed (stored as not scored)";
  out << "\n";
  return 0;
}

// The command line as typed, after the program name, quoted for a shell where needed (to say
// how to run it again as another user).
std::string command_args(int argc, const char* const* argv) {
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool plain = !a.empty();
    for (char c : a)
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) ||
                        std::string_view("-_./=:,@+%").find(c) != std::string_view::npos);
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    out += (out.empty() ? "" : " ") + a;
  }
  return out;
}

// The schema the queries read: up to migration "removed" (the query index of "cli",
// touchpoint hits stored as spans by "ingest", removed reviews and analyses of translations).
// A manager's read-only CLI cannot migrate; it says so.
size_t cli_migration_count() {
  const auto& m = db::schema_migrations();
  for (size_t i = 0; i < m.size(); ++i)
    if (std::string_view(m[i].name) == "removed") return i + 1;
  return m.size();
}

// ---- the commands ---------------------------------------------------------------------------

// Every command's options, bound by CLI11 as it parses.
struct Options {
  ReviewsArgs reviews;
  TrendsArgs trends;
  TouchpointsArgs touchpoints;
  SummaryArgs summary;
  SearchArgs search;
  std::vector<std::string> search_words;
  ExportArgs exp;
  ReportArgs report;
  int64_t reindex_batch = 50000;
  bool rescore_outdated = false;
  int64_t rescore_batch = 2000;
  std::optional<AlertsCommand> alerts;           // repwatch alerts [retry ID | test --to ADDR]
  std::optional<ReplyCheckCommand> reply_check;  // repwatch reply-check [TEXT | --file F | ...]
  std::string help_topic;
};

// What a command needs opened before it runs. When a command line names several commands, the
// one that needs least runs (`help` first), then the first in the table.
enum class Needs {
  kHelp,      // nothing: `help`
  kArgs,      // its arguments; it opens what it needs itself (reply-check)
  kConfig,    // the config when there is one, and the database's file name
  kDatabase,  // the database, read-only and up to date, with its catalog: a Context
};

// What a command runs with; the fields after `err` are set as its Needs say.
struct Run {
  const CLI::App& app;
  const Globals& g;
  const Environment& env;
  std::ostream& out;
  std::ostream& err;
  const Config* config = nullptr;  // null with --db and no --config
  std::string db_file;
  Context* ctx = nullptr;
  std::optional<WriteCommand> writer;  // a command that writes the database: how to run it again
};

// One `repwatch` command: `add` registers the subcommand `name` with its options in the app,
// `run` runs it once it is the one selected.
struct Command {
  const char* name;
  Needs needs;
  void (*add)(CLI::App& app, Options& o);
  int (*run)(Options& o, const Run& r);
};

Format format_of(const Globals& g) {
  return g.json ? Format::kJson : g.csv ? Format::kCsv : Format::kTable;
}

Style style_of(const Globals& g, const Environment& env) {
  Style style;
  style.tty = env.stdout_tty;
  style.color = g.color == "always" || (g.color == "auto" && env.stdout_tty && !env.no_color);
  style.width = env.stdout_tty ? env.terminal_width : 0;
  return style;
}

void add_reviews(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand("reviews", "List reviews, newest first");
  add_filters(cmd, o.reviews.filter, kEveryFilter);
  cmd->add_option("--limit,-n", o.reviews.limit, "At most N reviews (default 20)")
      ->option_text("N");
  cmd->add_flag("--all", o.reviews.all, "Every matching review");
  cmd->add_flag("--full", o.reviews.full,
                "Whole review text in the table, with the source's translation");
  cmd->footer(examples({"repwatch reviews --negative --since 7d",
                        "repwatch reviews --location downtown --touchpoint billing --json",
                        "repwatch reviews --rating 1-2 --unanswered --all --csv > todo.csv"}));
}

void add_trends(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand(
      "trends", "Average rating, sentiment, review count and share negative over time");
  cmd->add_option("--by", o.trends.by, "day, week or month (default month)")->option_text("BUCKET");
  add_filters(cmd, o.trends.filter, {.time = true, .places = true, .touchpoints = true});
  cmd->footer(examples({"repwatch trends                      # by month, all history",
                        "repwatch trends --by week            # the last 26 weeks",
                        "repwatch trends --by day --since 2026-01-01 --location northside",
                        "repwatch trends --touchpoint billing # reviews mentioning billing",
                        "repwatch trends --csv > trends.csv"}) +
              "\nDays are UTC. Weeks start on Monday. On a terminal a sparkline column "
              "shows the rating.\n");
}

void add_touchpoints(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand(
      "touchpoints", "Scorecard per touchpoint of the patient journey, vs the period before");
  add_period(cmd, o.touchpoints.period);
  add_filters(cmd, o.touchpoints.filter, {.places = true, .touchpoints = true});
  cmd->add_option("--phrases", o.touchpoints.phrases, "Top evidence phrases shown (default 3)")
      ->option_text("N");
  cmd->add_option("--sort", o.touchpoints.sort, "negative (default), mentions, sentiment or name")
      ->option_text("BY");
  cmd->add_flag("--all", o.touchpoints.all, "Also touchpoints nobody mentioned");
  cmd->footer(examples({"repwatch touchpoints                 # the last 30 days",
                        "repwatch touchpoints --period 2026-01 --location downtown",
                        "repwatch touchpoints --period 90d --sort mentions --json"}));
}

void add_summary(CLI::App& app, Options& o) {
  auto* cmd =
      app.add_subcommand("summary",
                         "The one screen: this period vs the last, by source and location, worst "
                         "touchpoints, unanswered negative reviews, failing sources");
  add_period(cmd, o.summary.period);
  add_filters(cmd, o.summary.filter, {.places = true});
  cmd->footer(examples({"repwatch summary", "repwatch summary --period 7d",
                        "repwatch summary --period 2026-01 --location northside --json"}));
}

void add_search(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand("search", "Full-text search of review text, best first");
  cmd->add_option("query", o.search_words, "Words to find (see `repwatch help search`)")
      ->required();
  add_filters(cmd, o.search.filter, kEveryFilter);
  cmd->add_option("--limit,-n", o.search.limit, "At most N results (default 20)")->option_text("N");
  cmd->footer(examples({"repwatch search parking", "repwatch search \"front desk\" rude",
                        "repwatch search 'bill*' --negative --since 90d --json"}));
}

void add_export(CLI::App& app, Options& o) {
  auto* cmd =
      app.add_subcommand("export", "Every matching review with its analysis, for spreadsheets");
  cmd->add_option("--format,-f", o.exp.format, "csv (default), json or jsonl")
      ->option_text("FORMAT");
  cmd->add_option("--out,-o", o.exp.out, "Write to FILE instead of standard output")
      ->option_text("FILE");
  add_filters(cmd, o.exp.filter, kEveryFilter);
  cmd->footer(examples({"repwatch export --format csv --out reviews.csv",
                        "repwatch export --format jsonl --since 2026-01-01 | jq .",
                        "repwatch export --location downtown --negative -o downtown.csv"}));
}

void add_report(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand(
      "report", "One self-contained HTML file with charts, for a staff meeting or to print");
  cmd->add_option("--out,-o", o.report.out, "The HTML file (default report.html)")
      ->option_text("FILE");
  add_period(cmd, o.report.period);
  cmd->add_option("--history", o.report.history,
                  "Charts start here (default: 12 months before the period's end)")
      ->option_text("WHEN");
  cmd->add_option("--by", o.report.by, "Chart buckets: week or month")->option_text("BUCKET");
  cmd->add_option("--title", o.report.title, "Heading of the report");
  add_filters(cmd, o.report.filter, {.places = true});
  cmd->footer(examples({"repwatch report --out report.html",
                        "repwatch report --period 2026-01 --location downtown -o jan.html",
                        "repwatch report --period 90d --history 2y --by month"}));
}

void add_sources(CLI::App& app, Options&) {
  auto* cmd = app.add_subcommand(
      "sources", "Each source's health: last success, last error, failures in a row, next poll");
  cmd->footer(examples({"repwatch sources", "repwatch sources --json"}));
}

void add_reindex(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand(
      "reindex",
      "Fold new reviews into the search index and aggregates now (needs write access; "
      "repwatchd does this by itself)");
  cmd->add_option("--batch", o.reindex_batch, "Reviews per transaction (default 50000)");
}

int run_reindex(Options& o, const Run& r) {
  db::Database db = db::open_store(r.db_file);  // read-write: also brings the schema up to date
  int64_t total = db::query_index_state(db).pending(), pending = total;
  while (pending > 0) pending = db::refresh_query_index(db, r.env.now, o.reindex_batch);
  r.out << "indexed " << total << " review" << (total == 1 ? "" : "s") << " in " << r.db_file
        << "\n";
  return 0;
}

void add_rescore(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand(
      "rescore",
      "Analyse every stored review again with the current lexicon and taxonomy, after an edit "
      "of either (needs write access: run it as repwatchd's user)");
  cmd->add_flag("--outdated", o.rescore_outdated,
                "Only reviews analysed with another lexicon version");
  cmd->add_option("--batch", o.rescore_batch, "Reviews per transaction (default 2000)");
  cmd->footer(examples(
      {"sudo -u repwatch repwatch rescore", "sudo -u repwatch repwatch rescore --outdated"}));
}

int run_rescore(Options& o, const Run& r) {
  std::error_code ec;
  if (!std::filesystem::exists(r.db_file, ec))
    throw Error("the database " + r.db_file + " does not exist: nothing to rescore");
  return rescore(r.db_file, r.config, o.rescore_outdated, o.rescore_batch, r.env.now, r.out);
}

int run_alerts(Options& o, const Run& r) {
  return o.alerts->run({r.config, r.db_file, r.out, r.err, r.env.now, format_of(r.g),
                        style_of(r.g, r.env), r.writer});
}

int run_reply_check(Options& o, const Run& r) {
  return o.reply_check->run({!r.g.config.empty() ? r.g.config : r.env.config_file,
                             !r.g.db.empty() ? r.g.db : r.env.db_file, r.out, r.err,
                             r.env.in ? *r.env.in : std::cin, r.env.stdin_tty, r.env.now,
                             format_of(r.g), style_of(r.g, r.env)});
}

void add_help(CLI::App& app, Options& o) {
  auto* cmd = app.add_subcommand("help", "Help on a command or topic");
  cmd->add_option("topic", o.help_topic,
                  "filters, dates, search, formats, exit-codes, or a command");
}

int run_help(Options& o, const Run& r) {
  const std::string& topic = o.help_topic;
  if (topic.empty()) {
    r.out << r.app.help();
    return 0;
  }
  for (const auto& [name, text] : help_topics())
    if (name == topic) {
      r.out << text;
      return 0;
    }
  for (const auto* sub : r.app.get_subcommands({}))
    if (sub->get_name() == topic) {
      r.out << sub->help("repwatch");
      return 0;
    }
  std::vector<std::string> names;
  for (const auto& [name, text] : help_topics()) names.push_back(name);
  for (const auto* sub : r.app.get_subcommands({})) names.push_back(sub->get_name());
  r.err << "repwatch: " << unknown_name_message("help topic", topic, names) << "\n";
  return 2;
}

// The commands in the order `repwatch --help` lists them.
const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"reviews", Needs::kDatabase, add_reviews,
       [](Options& o, const Run& r) { return cmd_reviews(*r.ctx, o.reviews); }},
      {"trends", Needs::kDatabase, add_trends,
       [](Options& o, const Run& r) { return cmd_trends(*r.ctx, o.trends); }},
      {"touchpoints", Needs::kDatabase, add_touchpoints,
       [](Options& o, const Run& r) { return cmd_touchpoints(*r.ctx, o.touchpoints); }},
      {"summary", Needs::kDatabase, add_summary,
       [](Options& o, const Run& r) { return cmd_summary(*r.ctx, o.summary); }},
      {"search", Needs::kDatabase, add_search,
       [](Options& o, const Run& r) {
         for (const auto& w : o.search_words)
           o.search.query += (o.search.query.empty() ? "" : " ") + w;
         return cmd_search(*r.ctx, o.search);
       }},
      {"export", Needs::kDatabase, add_export,
       [](Options& o, const Run& r) {
         if (r.g.json && o.exp.format == "csv") o.exp.format = "json";
         return cmd_export(*r.ctx, o.exp);
       }},
      {"report", Needs::kDatabase, add_report,
       [](Options& o, const Run& r) { return cmd_report(*r.ctx, o.report); }},
      {"sources", Needs::kDatabase, add_sources,
       [](Options&, const Run& r) { return cmd_sources(*r.ctx); }},
      {"reindex", Needs::kConfig, add_reindex, run_reindex},
      {"rescore", Needs::kConfig, add_rescore, run_rescore},
      {"alerts", Needs::kConfig, [](CLI::App& app, Options& o) { o.alerts.emplace(app); },
       run_alerts},
      {"reply-check", Needs::kArgs, [](CLI::App& app, Options& o) { o.reply_check.emplace(app); },
       run_reply_check},
      {"help", Needs::kHelp, add_help, run_help},
  };
  return table;
}

// The command that runs: of those on the command line, the one that needs least, then the
// first in the table. Null when none was given.
const Command* selected_command(const CLI::App& app) {
  const Command* best = nullptr;
  for (const Command& c : commands())
    if (app.get_subcommand(c.name)->parsed() && (!best || c.needs < best->needs)) best = &c;
  return best;
}

// The commands that write the database, to say how to run them as its owner.
std::optional<WriteCommand> writer_of(const Command& c, const Options& o, int argc,
                                      const char* const* argv) {
  const std::string_view name = c.name;
  if (name == "reindex" || name == "rescore") return WriteCommand{c.name, command_args(argc, argv)};
  if (name == "alerts" && o.alerts->writes())
    return WriteCommand{o.alerts->name(), command_args(argc, argv)};
  return std::nullopt;
}

// ---- the program ----------------------------------------------------------------------------

void add_globals(CLI::App& app, Globals& g) {
  app.fallthrough();
  app.set_version_flag("--version", "repwatch 0.1.0");
  app.footer(
      "\nThe database is opened read-only, so repwatch works while repwatchd is writing.\n"
      "Topics: repwatch help filters | dates | search | formats | exit-codes\n" +
      examples({"repwatch summary", "repwatch trends --by week --since 6mo",
                "repwatch touchpoints --period 2026-01 --location downtown",
                "repwatch reviews --negative --unanswered --since 14d",
                "repwatch search \"parking\" --location northside",
                "repwatch report --out report.html",
                "repwatch reply-check \"Thank you for your feedback...\"  # before you post"}));
  app.add_option("--config", g.config,
                 std::string("Config file; its state dir has the database (default ") +
                     kDefaultConfig + ", or $REPWATCH_CONFIG)")
      ->option_text("FILE")
      ->group("Global options");
  app.add_option("--db", g.db, "The database file itself (or $REPWATCH_DB)")
      ->option_text("FILE")
      ->group("Global options");
  auto* json = app.add_flag("--json", g.json, "JSON output for scripts")->group("Global options");
  auto* csv = app.add_flag("--csv", g.csv, "CSV output for spreadsheets")->group("Global options");
  json->excludes(csv);
  app.add_option("--color", g.color, "auto (default: on a terminal unless NO_COLOR), always, never")
      ->option_text("WHEN")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->group("Global options");
}

// Parses the command line; an exit code when that is all there is to do (help, version, a
// usage error).
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv, std::ostream& out,
                         std::ostream& err) {
  // `repwatch help search`: CLI11 takes a word that names a command for that command even where
  // `help` expects its topic, so the topic is passed after "--" (positional only).
  std::vector<const char*> args(argv, argv + argc);
  size_t command = 1;  // the first word that is neither an option nor an option's value
  while (command < args.size() && args[command][0] == '-') {
    const std::string_view a = args[command];
    const CLI::Option* o =
        a.find('=') == std::string_view::npos ? app.get_option_no_throw(std::string(a)) : nullptr;
    command += o != nullptr && o->get_expected_min() > 0 ? 2 : 1;
  }
  if (command + 1 < args.size() && std::string_view(args[command]) == "help" &&
      args[command + 1][0] != '-')
    args.insert(args.begin() + static_cast<std::ptrdiff_t>(command) + 1, "--");
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return 0;
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    err << "repwatch: " << e.what() << "\n";
    auto subs = app.get_subcommands();
    err << "Run `repwatch " << (subs.empty() ? std::string() : subs[0]->get_name() + " ")
        << "--help` for usage.\n";
    return 2;
  }
  return std::nullopt;
}

// The config and the database's file name: --db, else the config's state dir.
std::optional<Config> resolve_database(const Globals& g, const Environment& env,
                                       std::string& db_file) {
  std::optional<Config> config;
  std::string config_file = !g.config.empty() ? g.config : env.config_file;
  db_file = !g.db.empty() ? g.db : env.db_file;
  std::error_code ec;
  if (db_file.empty()) {
    if (config_file.empty()) config_file = kDefaultConfig;
    require_readable(config_file, "the config");
    if (!std::filesystem::exists(config_file, ec))
      throw UsageError("no database to read: " + config_file +
                       " does not exist; pass --config FILE (repwatchd's config) or --db FILE");
    config = load_config(config_file);
    db_file = config->database.string();
  } else if (!config_file.empty()) {
    require_readable(config_file, "the config");
    config = load_config(config_file);
  }
  return config;
}

// The database for the queries: read-only, with the schema they read.
db::Database open_for_queries(const std::string& db_file) {
  require_readable(db_file, "the database");
  std::error_code ec;
  if (!std::filesystem::exists(db_file, ec))
    throw Error("the database " + db_file +
                " does not exist yet: repwatchd creates it on its first poll (or pass --db)");
  db::Database db = db::Database::open(db_file, db::Database::Mode::kReadOnly);
  int version = db.user_version();
  if (version < static_cast<int>(cli_migration_count()))
    throw Error("the database " + db_file + " has schema version " + std::to_string(version) +
                "; this repwatch needs " + std::to_string(cli_migration_count()) +
                ": restart repwatchd (it migrates on start) or run `repwatch reindex` as its "
                "user");
  return db;
}

// Opens what `c` needs and runs it.
int run_command(const Command& c, Options& o, Run& r) {
  if (c.needs <= Needs::kArgs) return c.run(o, r);
  std::optional<Config> config = resolve_database(r.g, r.env, r.db_file);
  r.config = config ? &*config : nullptr;
  if (r.writer) require_writable_database(r.db_file, *r.writer);
  if (c.needs == Needs::kConfig) return c.run(o, r);

  db::Database db = open_for_queries(r.db_file);
  Context ctx{db,
              r.config,
              Catalog::load(db, load_taxonomy(r.config), r.config),
              Queries(db),
              style_of(r.g, r.env),
              format_of(r.g),
              r.env.now,
              r.out,
              r.err};
  if (auto st = ctx.queries.index_state(); st.pending() > 200000)
    r.err << "note: " << st.pending()
          << " reviews are not in the query index yet, so this is slower than usual; repwatchd "
             "folds them in as it runs\n";
  r.ctx = &ctx;
  return c.run(o, r);
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const Environment& env) {
  std::vector<const char*> argv = {"repwatch"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return run_cli(static_cast<int>(argv.size()), argv.data(), out, err, env);
}

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            const Environment& env) {
  CLI::App app{
      "repwatch - what patients say about your practice: trends, touchpoints, search, exports "
      "and reports from repwatchd's database.",
      "repwatch"};
  Globals g;
  add_globals(app, g);
  Options o;
  for (const Command& c : commands()) c.add(app, o);

  if (auto code = parse(app, argc, argv, out, err)) return *code;
  const Command* command = selected_command(app);
  if (!command) {
    err << app.help() << "repwatch: give a command, e.g. `repwatch summary`\n";
    return 2;
  }
  Run r{app, g, env, out, err, nullptr, {}, nullptr, writer_of(*command, o, argc, argv)};
  try {
    return run_command(*command, o, r);
  } catch (const UsageError& e) {
    err << "repwatch: " << e.what() << "\n";
    return 2;
  } catch (const DbError& e) {
    err << "repwatch: " << explain_db_error(e, r.db_file, r.writer).value_or(e.what()) << "\n";
    return 1;
  } catch (const Error& e) {
    err << "repwatch: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    err << "repwatch: " << explain_filesystem_error(e).value_or(e.what()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << "repwatch: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace repwatch::cli
