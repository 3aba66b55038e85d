#include "replies/terms.h"

#include <toml++/toml.h>

#include <algorithm>
#include <stdexcept>

#include "core/error.h"

namespace repwatch::replies::detail {

namespace {

constexpr size_t kMaxGap = 3;            // words a "..." may stand for
constexpr size_t kMaxExpansions = 4096;  // phrases one line may stand for, after "(a b|c)"

bool is_number_word(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "one",       "two",      "three",    "four",    "five",     "six",      "seven",   "eight",
      "nine",      "ten",      "eleven",   "twelve",  "thirteen", "fourteen", "fifteen", "sixteen",
      "seventeen", "eighteen", "nineteen", "twenty",  "thirty",   "forty",    "fifty",   "sixty",
      "seventy",   "eighty",   "ninety",   "hundred", "thousand", "several",  "couple",  "few"};
  return kWords.count(w) > 0;
}

// "a (b c|d) e" -> "a b c e", "a d e".
void expand_groups(const std::string& phrase, std::vector<std::string>& out) {
  size_t open = phrase.find('(');
  size_t close = phrase.find(')');
  if (open == std::string::npos) {
    if (close != std::string::npos) throw std::invalid_argument("a ')' without its '('");
    if (out.size() >= kMaxExpansions)
      throw std::invalid_argument("stands for more than " + std::to_string(kMaxExpansions) +
                                  " phrases");
    out.push_back(phrase);
    return;
  }
  if (close == std::string::npos || close < open)
    throw std::invalid_argument("a '(' without its ')'");
  std::string inside = phrase.substr(open + 1, close - open - 1);
  if (inside.find('(') != std::string::npos) throw std::invalid_argument("parentheses cannot nest");
  size_t pos = 0;
  for (;;) {
    size_t bar = inside.find('|', pos);
    std::string alt = inside.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
    if (alt.find_first_not_of(' ') == std::string::npos)
      throw std::invalid_argument("an empty alternative in \"(" + inside + ")\"");
    expand_groups(phrase.substr(0, open) + " " + alt + " " + phrase.substr(close + 1), out);
    if (bar == std::string::npos) break;
    pos = bar + 1;
  }
}

Elem parse_elem(const std::string& item) {
  Elem e;
  if (item == "...") {
    e.type = Elem::kGap;
    return e;
  }
  if (item == "<num>") {
    e.type = Elem::kNum;
    return e;
  }
  if (item == "?") {
    e.type = Elem::kAny;
    return e;
  }
  if (item.find('<') != std::string::npos || item.find('>') != std::string::npos)
    throw std::invalid_argument("\"" + item + "\": the only <...> word is <num>");
  size_t pos = 0;
  for (;;) {
    size_t bar = item.find('|', pos);
    std::string alt = item.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
    if (alt.empty()) throw std::invalid_argument("an empty alternative in \"" + item + "\"");
    bool prefix = alt.back() == '*';
    if (prefix) alt.pop_back();
    std::vector<Tok> toks = tokenize(alt);
    size_t words = 0;
    for (const Tok& t : toks) words += is_wordlike(t) ? 1 : 0;
    if (words != 1 || toks.size() != 1)
      throw std::invalid_argument("\"" + alt + "\" is not one word (several words in an " +
                                  "alternative need parentheses: \"(a b|c)\")");
    if (prefix) {
      if (toks[0].norm.size() < 3 || toks[0].possessive)
        throw std::invalid_argument("\"" + alt + "*\": a word* needs at least 3 letters");
      e.prefixes.push_back(toks[0].norm);
    } else {
      e.words.push_back(toks[0].norm);
    }
    if (bar == std::string::npos) break;
    pos = bar + 1;
  }
  return e;
}

}  // namespace

bool Elem::matches(const Tok& t) const {
  if (!is_wordlike(t)) return false;
  switch (type) {
    case kAny:
      return true;
    case kNum:
      return t.kind == TokKind::kNumber || is_number_word(t.norm);
    case kGap:
      return false;
    case kWords:
      break;
  }
  for (const std::string& w : words)
    if (t.norm == w) return true;
  for (const std::string& p : prefixes)
    if (t.norm.size() >= p.size() && t.norm.compare(0, p.size(), p) == 0) return true;
  return false;
}

void PhraseSet::add(std::string_view phrase) {
  std::string p(phrase);
  // A hyphen is a space ("follow-up" = "follow up"); tabs too.
  for (char& c : p)
    if (c == '-' || c == '\t') c = ' ';
  if (p.find_first_not_of(' ') == std::string::npos) throw std::invalid_argument("empty phrase");
  std::vector<std::string> variants;
  expand_groups(p, variants);
  for (const std::string& v : variants) {
    Pattern pat;
    pat.text = std::string(phrase);
    size_t pos = 0;
    while (pos < v.size()) {
      size_t b = v.find_first_not_of(' ', pos);
      if (b == std::string::npos) break;
      size_t e = v.find(' ', b);
      if (e == std::string::npos) e = v.size();
      std::string item = v.substr(b, e - b);
      Elem el = parse_elem(item);
      // One item may fold to several words only when it is a single alternative; parse_elem
      // refuses that, so every Elem is one word position.
      pat.elems.push_back(std::move(el));
      pos = e;
    }
    if (pat.elems.empty()) throw std::invalid_argument("empty phrase");
    if (pat.elems.front().type == Elem::kGap || pat.elems.back().type == Elem::kGap)
      throw std::invalid_argument("a phrase cannot start or end with \"...\"");
    uint32_t id = static_cast<uint32_t>(patterns_.size());
    const Elem& first = pat.elems.front();
    if (first.type == Elem::kWords && first.prefixes.empty()) {
      for (const std::string& w : first.words) {
        auto& ids = by_first_[w];
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
    } else {
      wild_first_.push_back(id);
    }
    patterns_.push_back(std::move(pat));
  }
}

int64_t PhraseSet::match_from(const Pattern& p, const std::vector<Tok>& toks, size_t e,
                              size_t i) const {
  if (e == p.elems.size()) return static_cast<int64_t>(i) - 1;
  const Elem& el = p.elems[e];
  if (el.type == Elem::kGap) {
    int64_t best = -1;
    for (size_t skip = 0; skip <= kMaxGap; ++skip) {
      if (skip > 0 && (i + skip - 1 >= toks.size() || !is_wordlike(toks[i + skip - 1]))) break;
      best = std::max(best, match_from(p, toks, e + 1, i + skip));
    }
    return best;
  }
  if (i >= toks.size() || !el.matches(toks[i])) return -1;
  return match_from(p, toks, e + 1, i + 1);
}

void PhraseSet::match_at(const std::vector<Tok>& toks, size_t i, std::vector<Match>& out) const {
  if (i >= toks.size() || !is_wordlike(toks[i])) return;
  auto try_pattern = [&](uint32_t id) {
    int64_t last = match_from(patterns_[id], toks, 0, i);
    if (last >= static_cast<int64_t>(i))
      out.push_back({id, static_cast<uint32_t>(i), static_cast<uint32_t>(last)});
  };
  if (auto it = by_first_.find(toks[i].norm); it != by_first_.end())
    for (uint32_t id : it->second) try_pattern(id);
  for (uint32_t id : wild_first_) try_pattern(id);
}

std::vector<Match> PhraseSet::find_all(const std::vector<Tok>& toks) const {
  std::vector<Match> out;
  if (patterns_.empty()) return out;
  for (size_t i = 0; i < toks.size(); ++i) match_at(toks, i, out);
  return out;
}

int64_t PhraseSet::longest_at(const std::vector<Tok>& toks, size_t i) const {
  std::vector<Match> m;
  match_at(toks, i, m);
  int64_t best = -1;
  for (const Match& x : m) best = std::max<int64_t>(best, x.last);
  return best;
}

// ---- reply_terms.toml ------------------------------------------------------------------------

namespace {

class Reader {
 public:
  explicit Reader(std::string_view name) : name_(name) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& message) const {
    uint32_t line = node ? node->source().begin.line : 1;
    throw ConfigError(name_ + ":" + std::to_string(line) + ": " + message);
  }

  void only(const toml::table& t, const std::string& where,
            const std::vector<std::string_view>& allowed) const {
    for (const auto& [key, value] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string known;
      for (auto k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      fail(&value, (where.empty() ? "" : where + ".") + std::string(key.str()) +
                       ": unknown key; expected one of " + known);
    }
  }

  std::string string(const toml::table& t, const std::string& where, std::string_view key,
                     bool required) const {
    const toml::node* v = t.get(key);
    if (!v) {
      if (required) fail(&t, where + "." + std::string(key) + ": missing");
      return std::string();
    }
    auto s = v->value<std::string>();
    if (!s) fail(v, where + "." + std::string(key) + ": expected a string");
    return *s;
  }

  // The strings of an array (absent: none), each with its node for messages.
  template <typename Fn>
  void each(const toml::table& t, const std::string& where, std::string_view key, Fn&& fn) const {
    const toml::node* v = t.get(key);
    if (!v) return;
    const toml::array* arr = v->as_array();
    if (!arr) fail(v, where + "." + std::string(key) + ": expected an array of strings");
    for (const toml::node& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) fail(&item, where + "." + std::string(key) + ": expected strings");
      fn(*s, item);
    }
  }

  void phrases(const toml::table& t, const std::string& where, std::string_view key,
               PhraseSet& set) const {
    each(t, where, key, [&](const std::string& s, const toml::node& node) {
      try {
        set.add(s);
      } catch (const std::invalid_argument& e) {
        fail(&node, where + "." + std::string(key) + ": \"" + s + "\": " + e.what());
      }
    });
  }

  void words(const toml::table& t, const std::string& where, std::string_view key,
             std::unordered_set<std::string>& set) const {
    each(t, where, key, [&](const std::string& s, const toml::node& node) {
      std::string w;
      for (char c : s) w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (w.empty()) fail(&node, where + "." + std::string(key) + ": an empty string");
      set.insert(w);
    });
  }

 private:
  std::string name_;
};

}  // namespace

Terms parse_terms(std::string_view text, std::string_view name) {
  Reader r(name);
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(std::string(name) + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  r.only(root, "", {"version", "safe_reply", "anchors", "names", "kind"});
  Terms t;
  t.version = r.string(root, "", "version", false);
  if (t.version.empty()) r.fail(nullptr, "version: missing (e.g. version = \"2025.1\")");
  t.safe_reply = r.string(root, "", "safe_reply", false);

  auto table = [&](std::string_view key) -> const toml::table* {
    const toml::node* n = root.get(key);
    if (!n) return nullptr;
    if (!n->as_table())
      r.fail(n, std::string(key) + ": expected a table [" + std::string(key) + "]");
    return n->as_table();
  };
  // The sections of plain lists: each key, and the set it fills.
  struct List {
    std::string_view key;
    PhraseSet* phrases;
    std::unordered_set<std::string>* words;
  };
  auto section = [&](std::string_view name, const std::vector<List>& lists) {
    const toml::table* t = table(name);
    if (!t) return;
    std::vector<std::string_view> keys;
    for (const List& l : lists) keys.push_back(l.key);
    r.only(*t, std::string(name), keys);
    for (const List& l : lists) {
      if (l.phrases) r.phrases(*t, std::string(name), l.key, *l.phrases);
      if (l.words) r.words(*t, std::string(name), l.key, *l.words);
    }
  };
  section("anchors", {{"possessive", &t.possessive, nullptr},
                      {"definite", &t.definite, nullptr},
                      {"generic_heads", &t.generic_heads, nullptr},
                      {"before", &t.before, nullptr},
                      {"after", &t.after, nullptr},
                      {"general", &t.general, nullptr},
                      {"invitation", &t.invitation, nullptr},
                      {"range", &t.range, nullptr},
                      {"schedule", &t.schedule, nullptr}});
  section("names", {{"greetings", &t.greetings, nullptr},
                    {"titles", &t.titles, nullptr},
                    {"family", &t.family, nullptr},
                    {"staff", &t.staff, nullptr},
                    {"not_names", nullptr, &t.not_names},
                    {"abbreviations", nullptr, &t.abbreviations},
                    {"anonymous", nullptr, &t.anonymous},
                    {"common_words", nullptr, &t.common_words}});

  const toml::node* kinds = root.get("kind");
  if (!kinds) r.fail(nullptr, "no [[kind]] tables");
  const toml::array* list = kinds->as_array();
  if (!list) r.fail(kinds, "kind: expected [[kind]] tables");
  std::array<bool, kKindCount> seen{};
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::node& item = *list->get(i);
    std::string where = "kind[" + std::to_string(i) + "]";
    const toml::table* k = item.as_table();
    if (!k) r.fail(&item, where + ": expected a table");
    std::string id = r.string(*k, where, "id", true);
    auto kind = parse_kind(id);
    if (!kind)
      r.fail(k->get("id"), where + ".id: unknown kind \"" + id +
                               "\"; expected one of name, relationship, condition, treatment, "
                               "medication, date, billing, identifier");
    size_t idx = static_cast<size_t>(*kind);
    if (seen[idx]) r.fail(k->get("id"), where + ".id: a second [[kind]] with id \"" + id + "\"");
    seen[idx] = true;
    where = "kind." + id;
    std::vector<std::string_view> allowed = {"id",      "name",  "why",  "hint",
                                             "phrases", "terms", "nouns"};
    if (*kind == Kind::kIdentifier)
      allowed.insert(allowed.end(),
                     {"numbered", "phone_owner", "email_owner", "personal_domains", "user_words"});
    r.only(*k, where, allowed);
    KindTerms& kt = t.kinds[idx];
    kt.name = r.string(*k, where, "name", true);
    kt.why = r.string(*k, where, "why", true);
    kt.hint = r.string(*k, where, "hint", true);
    r.phrases(*k, where, "phrases", kt.phrases);
    r.phrases(*k, where, "terms", kt.terms);
    r.phrases(*k, where, "nouns", kt.nouns);
    if (*kind == Kind::kIdentifier) {
      r.phrases(*k, where, "numbered", t.numbered);
      r.phrases(*k, where, "phone_owner", t.phone_owner);
      r.phrases(*k, where, "email_owner", t.email_owner);
      r.phrases(*k, where, "user_words", t.user_words);
      r.words(*k, where, "personal_domains", t.personal_domains);
    }
  }
  for (size_t i = 0; i < kKindCount; ++i)
    if (!seen[i])
      r.fail(list, std::string("no [[kind]] with id = \"") + to_string(static_cast<Kind>(i)) +
                       "\" (every kind needs its name, why and hint)");
  return t;
}

}  // namespace repwatch::replies::detail
