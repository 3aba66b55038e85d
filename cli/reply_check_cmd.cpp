#include "cli/reply_check_cmd.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "cli/app.h"
#include "cli/args.h"
#include "config/config.h"
#include "core/error.h"
#include "core/text.h"
#include "core/time.h"
#include "db/review_reads.h"
#include "db/sqlite.h"
#include "replies/checker.h"

namespace repwatch::cli {

namespace {

namespace fs = std::filesystem;
using replies::Check;
using replies::Checker;
using replies::Finding;
using replies::Kind;

constexpr size_t kMaxDraftBytes = 1 << 20;  // a draft larger than this is not a reply

// A stored review with the reply posted under it.

// The config whose [replies] terms apply: the one named, else the default when it can be read.
std::optional<Config> load_config(const ReplyCheckRun& r) {
  if (!r.config_file.empty()) return repwatch::load_config(r.config_file);
  std::error_code ec;
  if (!fs::exists(kDefaultConfig, ec)) return std::nullopt;
  if (::access(kDefaultConfig, R_OK) != 0) {
    r.err << "note: cannot read " << kDefaultConfig
          << " (not in group repwatch?): checking with the shipped word lists\n";
    return std::nullopt;
  }
  return repwatch::load_config(kDefaultConfig);
}

db::Database open_database(const ReplyCheckRun& r, const Config* config, const char* why) {
  std::string path = r.db_file;
  if (path.empty() && config) path = config->database.string();
  if (path.empty())
    throw UsageError(std::string(why) +
                     " reads repwatchd's database: pass --config FILE (repwatchd's config) or "
                     "--db FILE");
  if (!fs::exists(path))
    throw Error("the database " + path +
                " does not exist yet: repwatchd creates it on its first poll (or pass --db)");
  return db::Database::open(path, db::Database::Mode::kReadOnly);
}

// 1-based line and column (in characters) of a byte offset.
std::pair<int, int> line_column(std::string_view text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// Words of `text` wrapped to `width` columns, each line starting with `indent`.
std::string wrap(std::string_view text, size_t width, std::string_view indent) {
  std::string out, line(indent);
  for (std::string_view word : split(text, ' ')) {
    if (word.empty()) continue;
    if (line.size() > indent.size() &&
        display_width(line) + 1 + display_width(word) > std::max<size_t>(width, 40)) {
      out += line + "\n";
      line = std::string(indent);
    }
    if (line.size() > indent.size()) line += ' ';
    line += word;
  }
  if (line.size() > indent.size()) out += line + "\n";
  return out;
}

void write_finding_json(JsonWriter& w, const Checker& checker, std::string_view reply,
                        const Finding& f) {
  auto [line, column] = line_column(reply, f.offset);
  w.StartObject();
  w.Key("kind");
  write_json(w, replies::to_string(f.kind()));
  w.Key("kinds");
  w.StartArray();
  for (Kind k : f.kinds) write_json(w, replies::to_string(k));
  w.EndArray();
  w.Key("kind_name");
  write_json(w, checker.kind(f.kind()).name);
  w.Key("phrase");
  write_json(w, f.phrase);
  w.Key("offset");
  w.Int64(f.offset);
  w.Key("length");
  w.Int64(f.length);
  w.Key("line");
  w.Int(line);
  w.Key("column");
  w.Int(column);
  w.Key("in_review");
  if (f.in_review)
    w.Bool(*f.in_review);
  else
    w.Null();
  w.Key("why");
  write_json(w, checker.kind(f.kind()).why);
  w.Key("hint");
  write_json(w, checker.kind(f.kind()).hint);
  w.EndObject();
}

void write_check_json(JsonWriter& w, const Checker& checker, std::string_view reply,
                      const Check& c) {
  w.Key("clean");
  w.Bool(c.clean());
  w.Key("findings");
  w.StartArray();
  for (const Finding& f : c.findings) write_finding_json(w, checker, reply, f);
  w.EndArray();
  w.Key("truncated");
  w.Bool(c.truncated);
}

// The human report of one check.
void print_check(const ReplyCheckRun& r, const Checker& checker, std::string_view reply,
                 const Check& c, bool review_known) {
  const size_t width = r.style.width > 0 ? static_cast<size_t>(r.style.width) : 90;
  if (c.clean()) {
    r.out << "No patient information found in this reply. reply-check reads words, not meaning: "
             "read it once more before you post it.\n";
    return;
  }
  std::string open = r.style.color ? "\x1b[1;31m" : "[";
  std::string close = r.style.color ? "\x1b[0m" : "]";
  r.out << "\n";
  std::string shown = replies::marked(reply, c.findings, open, close);
  std::istringstream lines(shown);
  for (std::string line; std::getline(lines, line);) r.out << "  " << line << "\n";
  if (c.truncated)
    r.out << "  (only the first " << Checker::kMaxTextBytes / 1024 << " KiB were checked)\n";
  r.out << "\n"
        << paint(r.style, Tone::kBad,
                 std::to_string(c.findings.size()) +
                     (c.findings.size() == 1 ? " finding" : " findings") +
                     ": do not post this reply as it is.")
        << "\n";

  // Per kind (most specific first): the words found, why it matters, what to write instead.
  std::map<Kind, std::vector<const Finding*>> by_kind;
  for (const Finding& f : c.findings) by_kind[f.kind()].push_back(&f);
  for (const auto& [kind, findings] : by_kind) {
    const replies::KindInfo& info = checker.kind(kind);
    std::string words;
    for (const Finding* f : findings) {
      if (!words.empty()) words += ", ";
      words += "\"" + one_line(f->phrase) + "\"";
      if (f->kinds.size() > 1) {
        std::string also;
        for (size_t i = 1; i < f->kinds.size(); ++i)
          also += (also.empty() ? "" : ", ") + checker.kind(f->kinds[i]).name;
        words += " (also: " + also + ")";
      }
      if (review_known && f->in_review)
        words += *f->in_review ? " (the review says it too)"
                               : " (not in the review: new information about the patient)";
    }
    r.out << "\n" << paint(r.style, Tone::kBold, info.name + ": ") << words << "\n";
    r.out << wrap(info.why, width, "  ");
    r.out << wrap("Instead: " + info.hint, width, "  ");
  }
  if (!checker.safe_reply().empty()) {
    r.out << "\nA reply that is always safe to start from:\n";
    r.out << wrap(checker.safe_reply(), width, "  ");
  }
}

std::string read_all(std::istream& in, const std::string& what) {
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxDraftBytes)
      throw UsageError(what + " is larger than " + std::to_string(kMaxDraftBytes >> 20) +
                       " MiB: that is not a reply");
  }
  return text;
}

// One flagged stored reply in the --posted JSON array.
void write_posted_json(JsonWriter& w, const Checker& checker, const db::ReviewRow& s,
                       const Check& c) {
  w.StartObject();
  w.Key("review_id");
  w.Int64(s.id);
  w.Key("source");
  write_json(w, s.review.source_id);
  w.Key("location");
  write_json(w, s.review.location_id);
  w.Key("author");
  write_json(w, s.review.author);
  w.Key("replied_at");
  write_json(w, format_timestamp(s.review.reply_at.value_or(s.review.created_at)));
  w.Key("url");
  write_json(w, s.review.url);
  w.Key("reply");
  write_json(w, s.review.reply_text);
  write_check_json(w, checker, s.review.reply_text, c);
  w.EndObject();
}

// One flagged stored reply in the --posted table: its kinds and the phrases found.
void add_posted_row(Table& t, const db::ReviewRow& s, const Check& c) {
  std::vector<std::string> kinds, phrases;
  for (const Finding& f : c.findings) {
    for (Kind k : f.kinds)
      if (std::find(kinds.begin(), kinds.end(), replies::to_string(k)) == kinds.end())
        kinds.push_back(replies::to_string(k));
    phrases.push_back("\"" + one_line(f.phrase) + "\"");
  }
  t.add({Value::integer(s.id),
         Value::text(format_date(s.review.reply_at.value_or(s.review.created_at))),
         Value::text(s.review.source_id), Value::text(s.review.author), Value::list(kinds),
         Value::list(phrases)});
}

// The --posted table with its count, or that no stored reply discloses.
void print_posted_summary(const ReplyCheckRun& r, const Table& t, int64_t checked, int64_t flagged,
                          int64_t limit) {
  if (flagged == 0) {
    r.out << "No stored reply discloses patient information (" << checked << " repl"
          << (checked == 1 ? "y" : "ies") << " checked).\n";
  } else {
    t.write(r.out, Format::kTable, r.style);
    r.out << "\n"
          << flagged << " of " << checked << " stored repl" << (checked == 1 ? "y" : "ies")
          << " disclose patient information";
    if (limit > 0 && flagged > limit) r.out << " (the newest " << limit << " shown)";
    r.out << ". Edit or delete them on the review site; `repwatch reply-check --review ID` "
             "shows why.\n";
  }
}

}  // namespace

ReplyCheckCommand::ReplyCheckCommand(CLI::App& app) {
  cmd_ = app.add_subcommand(
      "reply-check",
      "Check a reply to a review for patient information before (or after) it is posted: "
      "names, confirming the patient, conditions, treatment, medication, dates, insurance, "
      "numbers");
  cmd_->add_option("reply", words_, "The draft reply (or use --file, or standard input)")
      ->option_text("TEXT...");
  cmd_->add_option("--file,-f", file_, "Read the draft from FILE (\"-\": standard input)")
      ->option_text("FILE");
  cmd_->add_option("--review", review_,
                   "The review the reply answers (ID from `repwatch reviews`): its author's name "
                   "is caught too; without a draft, checks the reply posted under it")
      ->option_text("ID");
  cmd_->add_flag("--posted", posted_,
                 "Check every reply stored in the database (replies posted before repwatch "
                 "watched, too)");
  cmd_->add_option("--since", since_, "--posted: replies to reviews written since WHEN")
      ->option_text("WHEN");
  cmd_->add_option("--source", sources_, "--posted: only this source id (repeatable)")
      ->option_text("ID")
      ->allow_extra_args(false);
  cmd_->add_option("--location", locations_, "--posted: only this location id (repeatable)")
      ->option_text("ID")
      ->allow_extra_args(false);
  cmd_->add_option("--limit,-n", limit_, "--posted: at most N replies listed (default 50; 0: all)")
      ->option_text("N");
  cmd_->footer(
      "\nExit status: 0 nothing found, 3 findings, 1 error, 2 usage.\n"
      "\nExamples:\n"
      "  repwatch reply-check \"Thank you for your feedback. Please call us at 555-0100.\"\n"
      "  repwatch reply-check --file draft.txt\n"
      "  repwatch reply-check --review 42 \"Hi Darnell, we're sorry about your visit.\"\n"
      "  repwatch reply-check --review 42          # the reply already posted under review 42\n"
      "  repwatch reply-check --posted --since 1y  # every stored reply that discloses\n"
      "  repwatch --json reply-check --file draft.txt | jq '.findings[].phrase'\n"
      "\nThe word lists are replies/reply_terms.toml, or the config's [replies] terms file "
      "(docs/replies.md).\n");
}

bool ReplyCheckCommand::selected() const { return cmd_ && cmd_->parsed(); }

int ReplyCheckCommand::run(const ReplyCheckRun& r) const {
  if (posted_ && (!words_.empty() || !file_.empty() || review_))
    throw UsageError("--posted checks the stored replies: give no draft, --file or --review");
  if (!posted_ && (!since_.empty() || !sources_.empty() || !locations_.empty()))
    throw UsageError("--since, --source and --location go with --posted");
  if (!words_.empty() && !file_.empty())
    throw UsageError("give the draft either as arguments or with --file, not both");
  if (limit_ < 0) throw UsageError("--limit must be 0 (all) or more");

  std::optional<Config> config = load_config(r);
  const Checker checker = config ? replies::checker_for(*config) : Checker::builtin();
  return posted_ ? check_posted(r, checker, config ? &*config : nullptr)
                 : check_one(r, checker, config ? &*config : nullptr);
}

int ReplyCheckCommand::check_posted(const ReplyCheckRun& r, const Checker& checker,
                                    const Config* config) const {
  db::Database db = open_database(r, config, "--posted");
  db::ReviewFilter posted;  // also the reviews removed at their source since
  if (!since_.empty()) posted.since = parse_when(since_, r.now, false, "--since");
  posted.sources = sources_;
  posted.locations = locations_;
  posted.include_removed = true;
  int64_t checked = 0, flagged = 0;
  Table t({{"id", "Review", Align::kRight},
           {"replied", "Replied"},
           {"source", "Source"},
           {"author", "Author", Align::kLeft, 24},
           {"kinds", "Kinds"},
           {"findings", "Findings", Align::kLeft, 70}});
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetIndent(' ', 2);
  w.StartArray();
  db::ReviewReads(db).each_replied(posted, [&](const db::ReviewRow& s) {
    ++checked;
    replies::ReviewContext rc{s.review.author, s.review.text};
    Check c = checker.check(s.review.reply_text, &rc);
    if (c.clean()) return;
    ++flagged;
    if (limit_ > 0 && flagged > limit_) return;
    if (r.format == Format::kJson)
      write_posted_json(w, checker, s, c);
    else
      add_posted_row(t, s, c);
  });
  if (r.format == Format::kJson) {
    w.EndArray();
    r.out << buf.GetString() << "\n";
  } else if (r.format == Format::kCsv) {
    t.write_csv(r.out);
  } else {
    print_posted_summary(r, t, checked, flagged, limit_);
  }
  return flagged ? kExitFindings : 0;
}

std::optional<std::string> ReplyCheckCommand::read_draft(const ReplyCheckRun& r) const {
  std::string reply;
  if (!words_.empty()) {
    for (const auto& word : words_) reply += (reply.empty() ? "" : " ") + word;
    return reply;
  }
  if (!file_.empty() && file_ != "-") {
    std::ifstream in(file_, std::ios::binary);
    if (!in) throw Error("cannot read " + file_);
    return read_all(in, file_);
  }
  if (file_ == "-" || !r.stdin_tty) return read_all(r.in, "standard input");
  return std::nullopt;
}

int ReplyCheckCommand::check_one(const ReplyCheckRun& r, const Checker& checker,
                                 const Config* config) const {
  // One reply: the draft (arguments, --file, stdin) or the one posted under --review.
  std::optional<db::ReviewRow> stored;
  if (review_) {
    db::Database db = open_database(r, config, "--review");
    stored = db::ReviewReads(db).get(*review_);
    if (!stored)
      throw UsageError("no review with id " + std::to_string(*review_) +
                       " (the ID column of `repwatch reviews`)");
  }
  std::string reply;
  bool posted_reply = false;
  if (std::optional<std::string> draft = read_draft(r)) {
    reply = std::move(*draft);
  } else if (stored) {
    if (stored->review.reply_text.empty())
      throw UsageError("review " + std::to_string(stored->id) +
                       " has no reply yet: give the draft as arguments, with --file or on "
                       "standard input");
    reply = stored->review.reply_text;
    posted_reply = true;
  } else {
    throw UsageError(
        "give the reply to check as arguments, with --file FILE, or on standard input");
  }
  if (reply.find_first_not_of(" \t\r\n") == std::string::npos)
    throw UsageError("the reply is empty: nothing to check");

  std::optional<replies::ReviewContext> context;
  if (stored) context = replies::ReviewContext{stored->review.author, stored->review.text};
  Check c = checker.check(reply, context ? &*context : nullptr);

  if (r.format == Format::kJson) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("review_id");
    if (stored)
      w.Int64(stored->id);
    else
      w.Null();
    w.Key("posted");
    w.Bool(posted_reply);
    write_check_json(w, checker, reply, c);
    w.Key("terms_version");
    write_json(w, checker.version());
    w.Key("safe_reply");
    write_json(w, checker.safe_reply());
    w.EndObject();
    r.out << buf.GetString() << "\n";
    return c.clean() ? 0 : kExitFindings;
  }
  if (stored) {
    std::string author =
        stored->review.author.empty() ? "anonymous" : one_line(stored->review.author);
    r.out << (posted_reply ? "The reply posted under review " : "A reply to review ") << stored->id
          << " (" << stored->review.source_id << ", " << author << ", "
          << format_date(stored->review.created_at) << ")\n";
  }
  print_check(r, checker, reply, c, stored.has_value());
  return c.clean() ? 0 : kExitFindings;
}

}  // namespace repwatch::cli
