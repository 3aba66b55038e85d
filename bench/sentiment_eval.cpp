// bench/sentiment_eval - measures repwatch's sentiment scorer against labelled data.
//
//   sentiment_eval [--data FILE.jsonl] [--lexicon FILE] [--taxonomy FILE] [--errors N]
//                  [--sweep] [--touchpoints [FILE.jsonl]] [--gold [FILE.jsonl]]
//
// Polarity mode (default): reads JSONL reviews {"text", "rating", "scale"[, "source"]} (default
// ../shared/data/reviews/dev.jsonl next to the source tree), maps the rating onto 1..5, takes
// 1-2 as negative and 4-5 as positive (3 and unrated rows are left out), and prints accuracy,
// macro-F1 and negative-class precision/recall, overall and per `source`, separately for the
// tuning part (~70%) and the held-out part (~30%). The split is by a hash of the normalised
// text (lower-case letters and digits only), so it is deterministic and duplicates never
// straddle it. Only the tuning part is ever printed example by example (--errors N) or swept
// over thresholds (--sweep): tune on it, report the held-out part.
//
// Touchpoint mode (--touchpoints [FILE], --gold [FILE]): reads {"id"?, "source"?, "text",
// "touchpoints": {"id": "positive"|"negative"|"neutral", ...}} and prints, per touchpoint, the
// precision and recall of its mentions, the polarity agreement on hits and the precision and
// recall of negative complaints - pairs (review, touchpoint) labelled negative against the
// touchpoints repwatch reports with a score <= -0.05 (the guide's rule: they decide alerts) -
// then mentions and negative complaints P/R/F1 overall and per source. --gold reads
// ../shared/data/touchpoints/dev_labels.jsonl (labelled with its GUIDE.md) and splits its rows by
// FNV-1a of the id into a tuning part (70%) and an untouched part (30%): --errors N lists tuning
// rows only; the untouched part is only ever printed as totals. --touchpoints defaults to
// tests/fixtures/sentiment/touchpoints.jsonl (no ids: one part).
//
// Explain mode (--explain TEXT, repeatable): score, label, terms and touchpoints of each text.
//
// Category mode (--categories): for rows of --data that carry the annotators' topic codes
// ("categories", nhs_trust_px), precision and recall of touchpoint mentions against those codes
// mapped onto touchpoints - an independent, human-labelled check of the taxonomy.
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sentiment/analyzer.h"

using repwatch::Analysis;
using repwatch::Label;
using repwatch::sentiment::Analyzer;

namespace {

struct Row {
  std::string text;
  std::string source;
  bool negative = false;
  bool holdout = false;
};

uint64_t split_hash(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      h = (h ^ c) * 1099511628211ull;
    }
  }
  return h;
}

bool in_holdout(const std::string& text) { return split_hash(text) % 100 >= 70; }

struct Counts {
  long tp = 0, fp = 0, fn = 0, tn = 0;  // negative class is "positive" for tp/fp/fn
  long neutral = 0;
  void add(bool gold_negative, bool predicted_negative, bool neutral_prediction) {
    if (gold_negative && predicted_negative) ++tp;
    if (!gold_negative && predicted_negative) ++fp;
    if (gold_negative && !predicted_negative) ++fn;
    if (!gold_negative && !predicted_negative) ++tn;
    neutral += neutral_prediction;
  }
  long n() const { return tp + fp + fn + tn; }
};

double ratio(double a, double b) { return b == 0 ? 0 : a / b; }

// The probability that a negative review scores below a positive one (ties count half): how
// well the score ranks, whatever the threshold.
double auc(std::vector<std::pair<double, bool>> v) {
  std::sort(v.begin(), v.end());
  double below = 0;
  long negatives = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    long neg = 0, pos = 0;
    for (; j < v.size() && v[j].first == v[i].first; ++j) ++(v[j].second ? neg : pos);
    below += pos * (negatives + 0.5 * neg);  // positives here: above the negatives so far
    negatives += neg;
    i = j;
  }
  const double pairs = static_cast<double>(negatives) * (static_cast<long>(v.size()) - negatives);
  return pairs == 0 ? 0 : below / pairs;
}

void print_counts(const char* name, const Counts& c, double auc) {
  double p_neg = ratio(c.tp, c.tp + c.fp), r_neg = ratio(c.tp, c.tp + c.fn);
  double p_pos = ratio(c.tn, c.tn + c.fn), r_pos = ratio(c.tn, c.tn + c.fp);
  double f_neg = ratio(2 * p_neg * r_neg, p_neg + r_neg);
  double f_pos = ratio(2 * p_pos * r_pos, p_pos + r_pos);
  std::printf(
      "  %-14s n=%6ld neg=%5ld  accuracy %.3f  macro-F1 %.4f  negative P %.3f R %.3f"
      "  (F1 %.3f)  neutral %.1f%%  AUC %.4f\n",
      name, c.n(), c.tp + c.fn, ratio(c.tp + c.tn, c.n()), (f_neg + f_pos) / 2, p_neg, r_neg, f_neg,
      100.0 * ratio(c.neutral, c.n()), auc);
}

std::vector<Row> read_rows(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "sentiment_eval: cannot open %s\n", file.c_str());
    std::exit(2);
  }
  std::vector<Row> rows;
  std::string line;
  long line_no = 0, skipped = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("text") || !d["text"].IsString()) {
      std::fprintf(stderr, "%s:%ld: not a JSON object with \"text\"\n", file.c_str(), line_no);
      ++skipped;
      continue;
    }
    if (!d.HasMember("rating") || !d["rating"].IsNumber()) {
      ++skipped;
      continue;
    }
    double rating = d["rating"].GetDouble();
    double lo = 1, hi = 5;
    if (d.HasMember("scale") && d["scale"].IsNumber()) hi = d["scale"].GetDouble();
    if (hi == 10 || hi == 100) lo = 0;
    double norm = 1 + 4 * (rating - lo) / (hi - lo);
    if (norm > 2 && norm < 4) continue;  // 3: neither
    Row r;
    r.text = d["text"].GetString();
    r.source = d.HasMember("source") && d["source"].IsString() ? d["source"].GetString() : "-";
    r.negative = norm <= 2;
    r.holdout = in_holdout(r.text);
    rows.push_back(std::move(r));
  }
  if (skipped) std::fprintf(stderr, "sentiment_eval: %ld lines skipped\n", skipped);
  return rows;
}

struct PolarityOptions {
  int errors = 0;              // print this many misses and false alarms of the tuning part
  std::string error_source;    // ... only of this source ("" = all)
  bool sweep = false;          // threshold sweep on the tuning part, overall and per source
  std::filesystem::path dump;  // write the tuning part's scores and terms here (JSONL)
};

void json_string(FILE* f, const std::string& s) {
  std::fputc('"', f);
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      std::fputc('\\', f);
      std::fputc(c, f);
    } else if (c < 0x20) {
      std::fprintf(f, "\\u%04x", c);
    } else {
      std::fputc(c, f);
    }
  }
  std::fputc('"', f);
}

// One labelled file: its tuning and held-out parts, overall and per source.
void polarity_file(const Analyzer& analyzer, const std::filesystem::path& data,
                   const PolarityOptions& opt, FILE* dump) {
  std::vector<Row> rows = read_rows(data);
  std::printf(
      "sentiment_eval: %s\n  lexicon %s, %zu rated reviews (3 excluded); negative = "
      "label negative (score <= %.2f)\n",
      data.c_str(), analyzer.lexicon_version().c_str(), rows.size(), Analyzer::kNegativeBelow);
  std::map<std::string, Counts> parts[2];
  std::map<std::string, std::vector<std::pair<double, bool>>> scores[2];  // for the AUC
  auto& tune_scores = scores[0];
  long shown_fn = 0, shown_fp = 0, not_scored = 0;
  for (const Row& r : rows) {
    Analysis a = analyzer.analyze(r.text);
    not_scored += !a.scored;
    bool neg = a.label == Label::kNegative;
    bool neutral = a.label == Label::kNeutral;
    parts[r.holdout]["all"].add(r.negative, neg, neutral);
    parts[r.holdout][r.source].add(r.negative, neg, neutral);
    scores[r.holdout]["all"].emplace_back(a.score, r.negative);
    scores[r.holdout][r.source].emplace_back(a.score, r.negative);
    if (r.holdout) continue;  // never looked at one by one
    if (dump) {
      std::fprintf(dump, "{\"source\": ");
      json_string(dump, r.source);
      std::fprintf(dump,
                   ", \"negative\": %s, \"score\": %.4f, \"text\": ", r.negative ? "true" : "false",
                   a.score);
      json_string(dump, r.text);
      std::fprintf(dump, ", \"terms\": [");
      for (size_t k = 0; k < a.terms.size(); ++k) {
        if (k) std::fprintf(dump, ", ");
        json_string(dump, a.terms[k].phrase);
      }
      std::fprintf(dump, "]}\n");
    }
    if (opt.errors > 0 && r.negative != neg &&
        (opt.error_source.empty() || opt.error_source == r.source)) {
      long& shown = r.negative ? shown_fn : shown_fp;
      if (shown < opt.errors) {
        ++shown;
        std::printf("  %s %+.2f %s: %s\n", r.negative ? "MISSED" : "FALSE ", a.score,
                    r.source.c_str(), r.text.substr(0, 300).c_str());
        for (const auto& t : a.terms) std::printf("      term [%s]\n", t.phrase.c_str());
      }
    }
  }
  for (int h = 0; h < 2; ++h) {
    std::printf("%s part:\n", h ? "HELD-OUT (never tuned on)" : "tuning");
    print_counts("all", parts[h]["all"], auc(scores[h]["all"]));
    for (const auto& [source, c] : parts[h]) {
      if (source != "all") print_counts(source.c_str(), c, auc(scores[h][source]));
    }
  }
  if (not_scored) std::printf("  (%ld reviews not scored: language not supported)\n", not_scored);
  if (opt.sweep) {
    std::printf("threshold sweep on the tuning part (negative iff score <= t): P/R\n  %-7s", "t");
    for (const auto& [source, v] : tune_scores) std::printf(" %14s", source.c_str());
    std::printf("\n");
    for (int k = -10; k <= 10; ++k) {
      double t = k * 0.05;
      std::printf("  %+.2f  ", t);
      for (const auto& [source, v] : tune_scores) {
        Counts c;
        for (auto [s, g] : v) c.add(g, s <= t + 1e-9, false);
        std::printf("    %.3f/%.3f", ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.fn));
      }
      std::printf("\n");
    }
  }
}

int polarity(const Analyzer& analyzer, const std::vector<std::filesystem::path>& files,
             const PolarityOptions& opt) {
  FILE* dump = nullptr;
  if (!opt.dump.empty()) {
    dump = std::fopen(opt.dump.c_str(), "w");
    if (!dump) {
      std::fprintf(stderr, "sentiment_eval: cannot write %s\n", opt.dump.c_str());
      return 2;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (i) std::printf("\n");
    polarity_file(analyzer, files[i], opt, dump);
  }
  if (dump) std::fclose(dump);
  return 0;
}

// FNV-1a of the row's id: the gold-touchpoint split (a row keeps its part when the text or its
// labels are corrected).
uint64_t id_hash(const std::string& id) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string polarity_of(double score) {
  return score <= Analyzer::kNegativeBelow  ? "negative"
         : score >= Analyzer::kPositiveFrom ? "positive"
                                            : "neutral";
}

// Counts of one part of a gold-touchpoint file.
struct TpCounts {
  long tp = 0, fp = 0, fn = 0, polarity_ok = 0;  // mentions, and polarity agreement on hits
  long neg_tp = 0, neg_fp = 0, neg_fn = 0;       // negative complaints (review, touchpoint)
  void operator+=(const TpCounts& o) {
    tp += o.tp, fp += o.fp, fn += o.fn, polarity_ok += o.polarity_ok;
    neg_tp += o.neg_tp, neg_fp += o.neg_fp, neg_fn += o.neg_fn;
  }
};

struct TpPart {
  long rows = 0;
  std::map<std::string, TpCounts> per_touchpoint;
  std::map<std::string, TpCounts> per_source;
};

double f1(double p, double r) { return ratio(2 * p * r, p + r); }

void print_tp_part(const Analyzer& analyzer, const char* title, const TpPart& part) {
  std::printf("%s (%ld comments):\n", title, part.rows);
  std::printf("  %-18s %5s %5s %5s  %9s %7s %9s   %5s %9s %7s\n", "touchpoint", "gold", "hits",
              "false", "precision", "recall", "polarity", "neg", "neg P", "neg R");
  TpCounts total;
  auto line = [](const char* name, const TpCounts& c) {
    std::printf("  %-18s %5ld %5ld %5ld  %9.3f %7.3f %9.3f   %5ld %9.3f %7.3f\n", name, c.tp + c.fn,
                c.tp, c.fp, ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.fn),
                ratio(c.polarity_ok, c.tp), c.neg_tp + c.neg_fn,
                ratio(c.neg_tp, c.neg_tp + c.neg_fp), ratio(c.neg_tp, c.neg_tp + c.neg_fn));
  };
  for (const auto& tp : analyzer.touchpoints()) {
    auto it = part.per_touchpoint.find(tp.id);
    TpCounts c = it == part.per_touchpoint.end() ? TpCounts{} : it->second;
    total += c;
    line(tp.id.c_str(), c);
  }
  line("all", total);
  for (const auto& [source, c] : part.per_source) {
    if (part.per_source.size() > 1) line(source.c_str(), c);
  }
  double mp = ratio(total.tp, total.tp + total.fp), mr = ratio(total.tp, total.tp + total.fn);
  double np = ratio(total.neg_tp, total.neg_tp + total.neg_fp);
  double nr = ratio(total.neg_tp, total.neg_tp + total.neg_fn);
  std::printf("  mentions           P %.3f R %.3f F1 %.3f  (gold %ld)\n", mp, mr, f1(mp, mr),
              total.tp + total.fn);
  std::printf("  negative complaints P %.3f R %.3f F1 %.3f  (gold %ld; repwatch: score <= %.2f)\n",
              np, nr, f1(np, nr), total.neg_tp + total.neg_fn, Analyzer::kNegativeBelow);
}

// Gold-touchpoint mode: rows {"id"?, "source"?, "text", "touchpoints": {"id": "positive"|
// "negative"|"neutral"}}. Rows with an id are split by its hash into the tuning part (70%) and
// the untouched part (30%); only tuning rows are ever printed one by one (errors).
int touchpoint_eval(const Analyzer& analyzer, const std::filesystem::path& file, int errors,
                    const std::filesystem::path& dump_file) {
  FILE* dump = nullptr;
  if (!dump_file.empty() && !(dump = std::fopen(dump_file.c_str(), "w"))) {
    std::fprintf(stderr, "sentiment_eval: cannot write %s\n", dump_file.c_str());
    return 2;
  }
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "sentiment_eval: cannot open %s\n", file.c_str());
    return 2;
  }
  TpPart parts[2];  // [0] tuning (or all, without ids), [1] untouched
  bool split = false;
  std::string line;
  long line_no = 0, shown = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("text") || !d["text"].IsString() ||
        !d.HasMember("touchpoints") || !d["touchpoints"].IsObject()) {
      std::fprintf(stderr, "%s:%ld: expected {\"text\", \"touchpoints\": {...}}\n", file.c_str(),
                   line_no);
      return 2;
    }
    const bool has_id = d.HasMember("id") && d["id"].IsString();
    split |= has_id;
    const bool untouched = has_id && id_hash(d["id"].GetString()) % 100 >= 70;
    TpPart& part = parts[untouched];
    ++part.rows;
    std::string text = d["text"].GetString();
    std::string source =
        d.HasMember("source") && d["source"].IsString() ? d["source"].GetString() : "-";
    std::map<std::string, std::string> gold;
    for (auto& m : d["touchpoints"].GetObject()) {
      std::string id = m.name.GetString();
      if (!analyzer.find_touchpoint(id) || !m.value.IsString()) {
        std::fprintf(stderr, "%s:%ld: unknown touchpoint \"%s\" or polarity not a string\n",
                     file.c_str(), line_no, id.c_str());
        return 2;
      }
      gold[id] = m.value.GetString();
    }
    Analysis a = analyzer.analyze(text);
    std::map<std::string, const repwatch::TouchpointResult*> got;
    for (const auto& r : a.touchpoints) got[r.touchpoint] = &r;
    bool wrong = false;
    auto count = [&](const std::string& id, auto&& fn) {
      fn(part.per_touchpoint[id]);
      fn(part.per_source[source]);
    };
    for (const auto& [id, pol] : gold) {
      auto it = got.find(id);
      const bool gold_neg = pol == "negative";
      if (it == got.end()) {
        count(id, [&](TpCounts& c) { ++c.fn, c.neg_fn += gold_neg; });
        wrong = true;
        continue;
      }
      const std::string predicted = polarity_of(it->second->score);
      const bool neg = predicted == "negative";
      count(id, [&](TpCounts& c) {
        ++c.tp;
        c.polarity_ok += predicted == pol;
        c.neg_tp += gold_neg && neg;
        c.neg_fn += gold_neg && !neg;
        c.neg_fp += !gold_neg && neg;
      });
      wrong |= predicted != pol;
    }
    for (const auto& [id, r] : got) {
      if (gold.count(id)) continue;
      const bool neg = r->score <= Analyzer::kNegativeBelow;
      count(id, [&](TpCounts& c) { ++c.fp, c.neg_fp += neg; });
      wrong = true;
    }
    if (dump && !untouched) {  // the tuning part only, as --errors
      std::fprintf(dump, "{\"id\": ");
      json_string(dump, has_id ? d["id"].GetString() : "-");
      std::fprintf(dump, ", \"text\": ");
      json_string(dump, text);
      std::fprintf(dump, ", \"gold\": {");
      const char* sep = "";
      for (const auto& [id, pol] : gold) {
        std::fprintf(dump, "%s\"%s\": \"%s\"", sep, id.c_str(), pol.c_str());
        sep = ", ";
      }
      std::fprintf(dump, "}, \"score\": %.4f, \"got\": {", a.score);
      sep = "";
      for (const auto& [id, r] : got) {
        std::fprintf(dump, "%s\"%s\": {\"score\": %.4f, \"evidence\": [", sep, id.c_str(),
                     r->score);
        for (size_t k = 0; k < r->evidence.size(); ++k) {
          if (k) std::fprintf(dump, ", ");
          json_string(dump, r->evidence[k].phrase);
        }
        std::fprintf(dump, "]}");
        sep = ", ";
      }
      std::fprintf(dump, "}}\n");
    }
    if (wrong && !untouched && shown < errors) {
      ++shown;
      std::printf("  [%s] %s\n    gold:", has_id ? d["id"].GetString() : "-", text.c_str());
      for (const auto& [id, pol] : gold) std::printf(" %s=%s", id.c_str(), pol.c_str());
      std::printf("\n");
      for (const auto& [id, r] : got) {
        std::printf("    got %s %+.2f", id.c_str(), r->score);
        for (const auto& e : r->evidence) std::printf(" [%s]", e.phrase.c_str());
        std::printf("\n");
      }
    }
  }
  if (dump) std::fclose(dump);
  std::printf("touchpoints: %s (taxonomy %s, lexicon %s)\n", file.c_str(),
              analyzer.taxonomy_version().c_str(), analyzer.lexicon_version().c_str());
  if (!split) {
    print_tp_part(analyzer, "all", parts[0]);
    return 0;
  }
  print_tp_part(analyzer, "tuning part (70%, by a hash of the id)", parts[0]);
  print_tp_part(analyzer, "UNTOUCHED part (30%, never tuned on or looked at)", parts[1]);
  return 0;
}

// The annotators' topic codes of nhs_trust_px mapped onto repwatch touchpoints (the map in
// ../shared/data/reviews/README.md). Nurses/staff and physician are one group here: the codes
// do not say which staff member a comment is about.
const std::vector<std::pair<std::string, std::vector<std::string>>>& category_map() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> map = {
      {"phone", {"Contacting services"}},
      {"scheduling", {"Appointment arrangements", "Appointment method"}},
      {"wait_time", {"Timeliness of care"}},
      {"staff (nurses_staff|physician)",
       {"Staff manner & personal attributes", "Staff responsiveness", "Competence & training",
        "Diagnosis & triage", "Staff listening, understanding & involving patients"}},
      {"facility", {"Cleanliness, tidiness & infection control", "Environment & Facilities"}},
      {"parking_access", {"Parking", "Service location", "Transport to/ from services"}},
      {"prescriptions", {"Supplying & understanding medication"}},
      {"followup_results",
       {"Referals & continuity of care",
        "Being kept informed, clarity & consistency of information", "Discharge"}},
  };
  return map;
}

std::string group_of(const std::string& touchpoint) {
  if (touchpoint == "nurses_staff" || touchpoint == "physician") {
    return "staff (nurses_staff|physician)";
  }
  return touchpoint;
}

// Touchpoint mentions against the human topic codes of rows that carry "categories".
int category_eval(const Analyzer& analyzer, const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "sentiment_eval: cannot open %s\n", file.c_str());
    return 2;
  }
  struct C {
    long tp = 0, fp = 0, fn = 0;
  };
  std::map<std::string, C> per[2];
  std::string line;
  long rows[2] = {0, 0};
  while (std::getline(in, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("categories") ||
        !d["categories"].IsArray() || !d.HasMember("text") || !d["text"].IsString()) {
      continue;
    }
    std::string text = d["text"].GetString();
    int h = in_holdout(text) ? 1 : 0;
    ++rows[h];
    std::set<std::string> gold, got;
    for (auto& c : d["categories"].GetArray()) {
      if (!c.IsString()) continue;
      for (const auto& [group, codes] : category_map()) {
        for (const auto& code : codes) {
          if (code == c.GetString()) gold.insert(group);
        }
      }
    }
    for (const auto& r : analyzer.analyze(text).touchpoints) {
      std::string g = group_of(r.touchpoint);
      for (const auto& [group, codes] : category_map()) {
        if (group == g) got.insert(g);
      }
    }
    for (const auto& g : gold) ++(got.count(g) ? per[h][g].tp : per[h][g].fn);
    for (const auto& g : got) {
      if (!gold.count(g)) ++per[h][g].fp;
    }
  }
  for (int h = 0; h < 2; ++h) {
    std::printf("touchpoints vs annotators' topic codes (%s part, %ld comments):\n",
                h ? "HELD-OUT" : "tuning", rows[h]);
    std::printf("  %-32s %5s %5s %5s  %9s %7s\n", "touchpoint", "gold", "hits", "false",
                "precision", "recall");
    for (const auto& [group, codes] : category_map()) {
      const C& c = per[h][group];
      std::printf("  %-32s %5ld %5ld %5ld  %9.3f %7.3f\n", group.c_str(), c.tp + c.fn, c.tp, c.fp,
                  ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.fn));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path source_dir = REPWATCH_SOURCE_DIR;
  std::filesystem::path data = source_dir / "../shared/data/reviews/dev.jsonl";
  std::filesystem::path us = source_dir / "tests/fixtures/sentiment/us_reviews.jsonl";
  std::filesystem::path touchpoints;
  std::filesystem::path lexicon, taxonomy;
  bool touchpoint_mode = false, categories = false, with_us = true;
  PolarityOptions opt;
  std::vector<std::string> explain;  // texts to score and explain, one by one
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sentiment_eval: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--data") {
      data = value();
    } else if (arg == "--us") {
      us = value();
    } else if (arg == "--no-us") {
      with_us = false;
    } else if (arg == "--lexicon") {
      lexicon = value();
    } else if (arg == "--taxonomy") {
      taxonomy = value();
    } else if (arg == "--errors") {
      opt.errors = std::atoi(value().c_str());
    } else if (arg == "--source") {
      opt.error_source = value();
    } else if (arg == "--dump") {
      opt.dump = value();
    } else if (arg == "--explain") {
      explain.push_back(value());
    } else if (arg == "--categories") {
      categories = true;
    } else if (arg == "--sweep") {
      opt.sweep = true;
    } else if (arg == "--touchpoints") {
      touchpoint_mode = true;
      if (i + 1 < argc && argv[i + 1][0] != '-') touchpoints = argv[++i];
    } else if (arg == "--gold") {
      touchpoint_mode = true;
      touchpoints = source_dir / "../shared/data/touchpoints/dev_labels.jsonl";
      if (i + 1 < argc && argv[i + 1][0] != '-') touchpoints = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: sentiment_eval [--data FILE] [--us FILE | --no-us] [--lexicon FILE] "
                   "[--taxonomy FILE] [--errors N [--source S]] [--sweep] [--dump FILE] "
                   "[--touchpoints [FILE]] [--gold [FILE]] [--categories] [--explain TEXT]...\n");
      return 2;
    }
  }
  try {
    Analyzer analyzer = Analyzer::load_or_builtin(lexicon, taxonomy);
    if (touchpoint_mode) {
      if (touchpoints.empty())
        touchpoints = source_dir / "tests/fixtures/sentiment/touchpoints.jsonl";
      return touchpoint_eval(analyzer, touchpoints, opt.errors, opt.dump);
    }
    if (!explain.empty()) {
      for (const auto& text : explain) {
        Analysis a = analyzer.analyze(text);
        std::printf("%+.2f %-8s %s\n", a.score,
                    a.label == Label::kNegative   ? "negative"
                    : a.label == Label::kPositive ? "positive"
                                                  : "neutral",
                    text.c_str());
        for (const auto& t : a.terms) std::printf("    term [%s]\n", t.phrase.c_str());
        for (const auto& tp : a.touchpoints) {
          std::printf("    %s %+.2f\n", tp.touchpoint.c_str(), tp.score);
        }
      }
      return 0;
    }
    if (categories) return category_eval(analyzer, data);
    std::vector<std::filesystem::path> files = {data};
    if (with_us) files.push_back(us);
    return polarity(analyzer, files, opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sentiment_eval: %s\n", e.what());
    return 1;
  }
}
