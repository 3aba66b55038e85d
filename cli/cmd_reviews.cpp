// repwatch reviews / search / export.
#include <rapidjson/writer.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "cli/commands.h"
#include "core/file.h"
#include "core/time.h"

namespace repwatch::cli {

namespace {

std::string touchpoint_marks(const ReviewRow& r) {
  std::string s;
  for (const auto& t : r.analysis.touchpoints) {
    if (!s.empty()) s += ", ";
    s += t.touchpoint;
    if (t.score < 0)
      s += "-";
    else if (t.score > 0)
      s += "+";
  }
  return s;
}

Value rating_value(const ReviewRow& r) {
  Value v = Value::number(r.review.rating, 1);
  if (r.negative) v.tone = Tone::kBad;
  return v;
}

// Text with the byte spans `matches` marked: ANSI on a color terminal, [brackets] otherwise.
std::string mark_text(std::string_view text, const std::vector<std::pair<size_t, size_t>>& m,
                      const Style& style, std::string_view open = "[",
                      std::string_view close = "]") {
  std::string out;
  size_t pos = 0;
  for (const auto& [off, len] : m) {
    if (off < pos || off + len > text.size()) continue;
    out.append(text.substr(pos, off - pos));
    std::string word(text.substr(off, len));
    out += style.color ? paint(style, Tone::kMatch, word)
                       : std::string(open) + word + std::string(close);
    pos = off + len;
  }
  out.append(text.substr(pos));
  return out;
}

// FTS5 snippet() output with \x01..\x02 around matches.
std::string mark_snippet(std::string_view snippet, const Style& style) {
  std::string out;
  std::string word;
  bool in = false;
  for (char c : snippet) {
    if (c == '\x01') {
      in = true;
      word.clear();
    } else if (c == '\x02') {
      in = false;
      out += style.color ? paint(style, Tone::kMatch, word) : "[" + word + "]";
    } else if (in) {
      word += c;
    } else {
      out += c;
    }
  }
  return out;
}

template <typename Writer>
void json_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename Writer>
void json_opt(Writer& w, const std::optional<double>& v, int precision) {
  if (!v) {
    w.Null();
    return;
  }
  double scale = std::pow(10.0, precision);
  double x = std::round(*v * scale) / scale;
  w.Double(x == 0 ? 0 : x);
}

// One review as a JSON object (reviews --json, search --json, export).
template <typename Writer>
void review_json(Writer& w, const ReviewRow& r, const Catalog& catalog, bool with_touchpoints) {
  w.StartObject();
  w.Key("id");
  w.Int64(r.id);
  w.Key("source");
  json_string(w, r.review.source_id);
  w.Key("location");
  json_string(w, r.review.location_id);
  w.Key("external_id");
  json_string(w, r.review.external_id);
  w.Key("created_at");
  json_string(w, format_timestamp(r.review.created_at));
  w.Key("updated_at");
  json_string(w, format_timestamp(r.review.updated_at));
  w.Key("author");
  json_string(w, r.review.author);
  w.Key("rating");
  json_opt(w, r.review.rating, 3);
  w.Key("raw_rating");
  json_opt(w, r.review.raw_rating, 3);
  w.Key("scale");
  json_string(w, r.review.scale.to_string());
  w.Key("sentiment");
  json_opt(w, r.analysis.score, 3);
  w.Key("label");
  json_string(w, to_string(r.analysis.label));
  w.Key("negative");
  w.Bool(r.negative);
  w.Key("language");
  json_string(w, r.review.language);
  w.Key("text");
  json_string(w, r.review.text);
  w.Key("translated_text");
  json_string(w, r.review.translated_text);
  w.Key("analyzed_text");  // which of the two the sentiment and the evidence offsets are of
  json_string(w, r.analysis.on_translation ? "translated_text" : "text");
  w.Key("reply_text");
  json_string(w, r.review.reply_text);
  w.Key("reply_at");
  if (r.review.reply_at)
    json_string(w, format_timestamp(*r.review.reply_at));
  else
    w.Null();
  w.Key("url");
  json_string(w, r.review.url);
  w.Key("revision");
  w.Int(r.revision);
  w.Key("removed_at");
  if (r.removed_at)
    json_string(w, format_timestamp(*r.removed_at));
  else
    w.Null();
  if (with_touchpoints) {
    w.Key("touchpoints");
    w.StartArray();
    for (const auto& t : r.analysis.touchpoints) {
      w.StartObject();
      w.Key("touchpoint");
      json_string(w, t.touchpoint);
      w.Key("name");
      const auto* info = catalog.touchpoint(t.touchpoint);
      json_string(w, info ? info->name : t.touchpoint);
      w.Key("score");
      json_opt(w, t.score, 3);
      w.Key("evidence");
      w.StartArray();
      for (const auto& e : t.evidence) {
        w.StartObject();
        w.Key("phrase");
        json_string(w, e.phrase);
        w.Key("offset");
        w.Uint(e.offset);
        w.Key("length");
        w.Uint(e.length);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  if (!r.snippet.empty() || !r.matches.empty()) {
    w.Key("snippet");
    Style plain;
    json_string(w, r.snippet.empty() ? mark_text(one_line(r.review.text), {}, plain)
                                     : mark_snippet(r.snippet, plain));
    w.Key("matches");
    w.StartArray();
    for (const auto& [off, len] : r.matches) {
      w.StartObject();
      w.Key("offset");
      w.Uint64(off);
      w.Key("length");
      w.Uint64(len);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::vector<Column> review_csv_columns() {
  return {{"id", "id"},
          {"source", "source"},
          {"location", "location"},
          {"external_id", "external_id"},
          {"created_at", "created_at"},
          {"updated_at", "updated_at"},
          {"author", "author"},
          {"rating", "rating"},
          {"raw_rating", "raw_rating"},
          {"scale", "scale"},
          {"sentiment", "sentiment"},
          {"label", "label"},
          {"negative", "negative"},
          {"touchpoints", "touchpoints"},
          {"evidence", "evidence"},
          {"text", "text"},
          {"reply_text", "reply_text"},
          {"reply_at", "reply_at"},
          {"url", "url"},
          {"revision", "revision"},
          {"translated_text", "translated_text"},
          {"analyzed_text", "analyzed_text"},
          {"removed_at", "removed_at"}};
}

std::vector<Value> review_csv_row(const ReviewRow& r) {
  std::vector<std::string> tps, evidence;
  for (const auto& t : r.analysis.touchpoints) {
    tps.push_back(t.touchpoint + ":" + signed_fixed(t.score, 2));
    std::string e = t.touchpoint + ": ";
    for (size_t i = 0; i < t.evidence.size(); ++i) e += (i ? " | " : "") + t.evidence[i].phrase;
    evidence.push_back(e);
  }
  return {Value::integer(r.id),
          Value::text(r.review.source_id),
          Value::text(r.review.location_id),
          Value::text(r.review.external_id),
          Value::text(format_timestamp(r.review.created_at)),
          Value::text(format_timestamp(r.review.updated_at)),
          Value::text(r.review.author),
          Value::number(r.review.rating, 2),
          Value::number(r.review.raw_rating, 2),
          Value::text(r.review.scale.to_string()),
          Value::number(r.analysis.score, 3),
          Value::text(to_string(r.analysis.label)),
          Value::integer(r.negative ? 1 : 0),
          Value::list(tps),
          Value::list(evidence),
          Value::text(r.review.text),
          Value::text(r.review.reply_text),
          r.review.reply_at ? Value::text(format_timestamp(*r.review.reply_at)) : Value::null(),
          Value::text(r.review.url),
          Value::integer(r.revision),
          Value::text(r.review.translated_text),
          Value::text(r.analysis.on_translation ? "translated_text" : "text"),
          r.removed_at ? Value::text(format_timestamp(*r.removed_at)) : Value::null()};
}

std::string describe_filter(const Context& ctx, const Filter& f) {
  std::vector<std::string> parts;
  if (f.since) parts.push_back("since " + format_minute(*f.since));
  if (f.until) parts.push_back("before " + format_minute(*f.until));
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  if (!f.sources.empty()) parts.push_back("source " + join(f.sources));
  if (!f.locations.empty()) parts.push_back("location " + join(f.locations));
  if (!f.touchpoints.empty()) parts.push_back("touchpoint " + join(f.touchpoints));
  if (f.negative) parts.push_back("negative");
  if (f.unanswered) parts.push_back("unanswered");
  if (f.min_rating || f.max_rating)
    parts.push_back("rating " + (f.min_rating ? fixed(*f.min_rating, 1) : std::string("1")) + "-" +
                    (f.max_rating ? fixed(*f.max_rating, 1) : std::string("5")));
  if (f.include_removed) parts.push_back("removed ones included");
  (void)ctx;
  return parts.empty() ? "no filter" : join(parts);
}

}  // namespace

int cmd_reviews(Context& ctx, const ReviewsArgs& args) {
  if (!args.all && args.limit <= 0) throw UsageError("--limit must be at least 1");
  Filter f = resolve_filter(ctx, args.filter);
  int64_t limit = args.all ? -1 : args.limit + 1;  // one more tells whether there are more
  ReadSnapshot snap(ctx.db);
  std::vector<ReviewRow> rows = ctx.queries.reviews(f, limit, {.with_touchpoints = true});
  bool more = !args.all && static_cast<int64_t>(rows.size()) > args.limit;
  if (more) rows.pop_back();

  if (ctx.format == Format::kJson) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.SetIndent(' ', 2);
    w.StartArray();
    for (const auto& r : rows) review_json(w, r, ctx.catalog, true);
    w.EndArray();
    ctx.out << buf.GetString() << "\n";
    return 0;
  }
  if (ctx.format == Format::kCsv) {
    Table t(review_csv_columns());
    for (const auto& r : rows) t.add(review_csv_row(r));
    t.write_csv(ctx.out);
    return 0;
  }
  if (rows.empty()) {
    ctx.out << "No reviews match (" << describe_filter(ctx, f) << ").\n";
    return 0;
  }
  Table t({{"id", "ID", Align::kRight},
           {"date", "Date"},
           {"source", "Source"},
           {"location", "Location"},
           {"rating", "Rating", Align::kRight},
           {"sentiment", "Sentiment", Align::kRight},
           {"touchpoints", "Touchpoints"},
           {"reply", "Replied"},
           {"text", "Review", Align::kLeft, args.full ? 0 : 90}});
  for (const auto& r : rows) {
    Value sentiment = Value::change(r.analysis.score, 2);
    sentiment.tone = r.analysis.label == Label::kNegative   ? Tone::kBad
                     : r.analysis.label == Label::kPositive ? Tone::kGood
                                                            : Tone::kPlain;
    std::string text = r.review.text.empty() ? "(rating only)" : r.review.text;
    // --full: the source's translation beside the reviewer's own words.
    if (args.full && !r.review.translated_text.empty())
      text += " [translation: " + r.review.translated_text + "]";
    if (r.removed_at) text = "[removed " + format_date(*r.removed_at) + "] " + text;
    t.add({Value::integer(r.id), Value::text(format_date(r.review.created_at)),
           Value::text(r.review.source_id), Value::text(r.review.location_id), rating_value(r),
           std::move(sentiment), Value::text(touchpoint_marks(r)),
           Value::text(r.review.reply_text.empty() ? "-" : "yes"), Value::text(text)});
  }
  Style style = ctx.style;
  if (args.full) style.width = 0;
  t.write_text(ctx.out, style);
  if (more)
    ctx.out << paint(ctx.style, Tone::kDim,
                     "(the " + std::to_string(args.limit) +
                         " newest shown; more match: --limit N or --all)")
            << "\n";
  return 0;
}

int cmd_search(Context& ctx, const SearchArgs& args) {
  if (args.limit <= 0) throw UsageError("--limit must be at least 1");
  Filter f = resolve_filter(ctx, args.filter);
  ReadSnapshot snap(ctx.db);
  bool windowed = false;
  std::vector<ReviewRow> rows = ctx.queries.search(args.query, f, args.limit, &windowed);
  if (ctx.format == Format::kJson) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.SetIndent(' ', 2);
    w.StartArray();
    for (const auto& r : rows) review_json(w, r, ctx.catalog, false);
    w.EndArray();
    ctx.out << buf.GetString() << "\n";
    return 0;
  }
  Table t({{"id", "ID", Align::kRight},
           {"date", "Date"},
           {"source", "Source"},
           {"location", "Location"},
           {"rating", "Rating", Align::kRight},
           {"match", "Match"}});
  for (const auto& r : rows) {
    std::string shown = r.snippet.empty() ? mark_text(r.review.text, r.matches, ctx.style)
                                          : mark_snippet(r.snippet, ctx.style);
    Style plain;
    std::string csv = r.snippet.empty() ? mark_text(r.review.text, r.matches, plain)
                                        : mark_snippet(r.snippet, plain);
    if (r.removed_at) {
      std::string mark = "[removed " + format_date(*r.removed_at) + "] ";
      shown = mark + shown;
      csv = mark + csv;
    }
    t.add({Value::integer(r.id), Value::text(format_date(r.review.created_at)),
           Value::text(r.review.source_id), Value::text(r.review.location_id), rating_value(r),
           Value::text(one_line(csv)).with_shown(one_line(shown))});
  }
  if (ctx.format == Format::kCsv) {
    t.write_csv(ctx.out);
    return 0;
  }
  if (rows.empty()) {
    ctx.out << "No reviews match \"" << args.query << "\" (" << describe_filter(ctx, f) << ").\n";
    return 0;
  }
  t.write_text(ctx.out, ctx.style);
  if (windowed)
    ctx.out << paint(ctx.style, Tone::kDim,
                     "(best matches among the newest " + std::to_string(kSearchWindow) +
                         " that match; narrow with --since or a filter to reach older ones)")
            << "\n";
  return 0;
}

// Oldest first, each review with its touchpoints.
constexpr ReviewOrder kExportOrder{.with_touchpoints = true, .newest_first = false};

int cmd_export(Context& ctx, const ExportArgs& args) {
  if (args.format != "csv" && args.format != "json" && args.format != "jsonl")
    throw UsageError("--format: expected csv, json or jsonl, got \"" + args.format + "\"");
  Filter f = resolve_filter(ctx, args.filter);

  // Write to a temporary file next to the target and rename it at the end, so a failed export
  // never leaves half a file under the wanted name.
  bool to_stdout = args.out.empty() || args.out == "-";
  std::optional<AtomicFile> file;
  if (!to_stdout) file.emplace(args.out);
  std::ostream& out = to_stdout ? ctx.out : file->stream();

  int64_t n = 0;
  ReadSnapshot snap(ctx.db);
  if (args.format == "csv") {
    Table header(review_csv_columns());
    header.write_csv(out);
    ctx.queries.each_review(f, kExportOrder, [&](const ReviewRow& r) {
      const auto row = review_csv_row(r);
      for (size_t c = 0; c < row.size(); ++c)
        out << (c ? "," : "") << csv_field(row[c].to_text(true));
      out << "\r\n";
      ++n;
    });
  } else {
    bool array = args.format == "json";
    if (array) out << "[";
    rapidjson::StringBuffer buf;
    ctx.queries.each_review(f, kExportOrder, [&](const ReviewRow& r) {
      buf.Clear();
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      review_json(w, r, ctx.catalog, true);
      if (array) out << (n ? ",\n" : "\n");
      out.write(buf.GetString(), static_cast<std::streamsize>(buf.GetSize()));
      if (!array) out << "\n";
      ++n;
    });
    if (array) out << (n ? "\n]\n" : "]\n");
  }
  out.flush();
  if (!to_stdout) {
    file->commit();
    ctx.err << "exported " << n << " review" << (n == 1 ? "" : "s") << " to "
            << file->target().string() << "\n";
  }
  return 0;
}

}  // namespace repwatch::cli
