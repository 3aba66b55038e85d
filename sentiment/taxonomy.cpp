#include "sentiment/taxonomy.h"

#include <toml++/toml.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "core/error.h"

namespace repwatch::sentiment::detail {
namespace {

bool is_identifier(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Appends `id` to the list of `node` in `ids` (node lists are contiguous: a list that grows
// moves to the end). Returns false when it was there already.
template <class Id>
bool append_to_node(TrieNode& node, std::vector<Id>& ids, const Id& id) {
  for (uint32_t k = 0; k < node.tp_count; ++k) {
    if (ids[node.tp_begin + k] == id) return false;
  }
  const uint32_t begin = static_cast<uint32_t>(ids.size());
  for (uint32_t k = 0; k < node.tp_count; ++k) ids.push_back(ids[node.tp_begin + k]);
  ids.push_back(id);
  node.tp_begin = begin;
  ++node.tp_count;
  return true;
}

}  // namespace

// Reads the TOML document into a Taxonomy; `where(node)` prefixes every message with the file
// and line.
class TaxonomyLoader {
 public:
  TaxonomyLoader(std::string_view name, PhraseTrie& trie, Taxonomy& out)
      : name_(name), trie_(trie), out_(out) {}

  void load(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, name_);
    } catch (const toml::parse_error& e) {
      throw ConfigError(std::string(name_) + ":" + std::to_string(e.source().begin.line) + ": " +
                        std::string(e.description()));
    }
    for (auto&& [key, value] : root) {
      if (key != "version" && key != "practice" && key != "touchpoint" && key != "lists") {
        fail(value, std::string(key.str()) +
                        ": unknown key (expected \"version\", \"practice\", [lists] or "
                        "[[touchpoint]] tables)");
      }
    }
    if (const toml::node* v = root.get("version")) {
      if (auto s = v->value<std::string>()) {
        out_.version = *s;
      } else if (auto i = v->value<int64_t>()) {
        out_.version = std::to_string(*i);
      } else {
        fail(*v, "version: expected a string");
      }
    }
    if (const toml::node* lists = root.get("lists")) read_lists(*lists);
    if (const toml::node* v = root.get("practice")) out_.practice_ = read_context(*v, "practice");
    const toml::array* list = root["touchpoint"].as_array();
    if (!list) {
      if (const toml::node* node = root.get("touchpoint")) {
        fail(*node, "touchpoint: expected [[touchpoint]] tables");
      }
      throw ConfigError(std::string(name_) + ":1: no [[touchpoint]] tables");
    }
    size_t index = 0;
    for (const toml::node& item : *list) read_touchpoint(item, index++);
    if (out_.touchpoints.empty()) {
      throw ConfigError(std::string(name_) + ":1: no [[touchpoint]] tables");
    }
  }

 private:
  [[noreturn]] void fail(const toml::node& node, const std::string& message) const {
    throw ConfigError(std::string(name_) + ":" + std::to_string(node.source().begin.line) + ": " +
                      message);
  }

  // [lists]: name = ["phrase", ...]. Each list gets its context-list id when first used.
  void read_lists(const toml::node& node) {
    const toml::table* t = node.as_table();
    if (!t) fail(node, "lists: expected a table of named phrase lists");
    for (auto&& [key, value] : *t) {
      std::string list_name(key.str());
      if (!is_identifier(list_name)) {
        fail(value,
             "lists." + list_name + ": a list name must be lower-case letters, digits and _");
      }
      const toml::array* arr = value.as_array();
      if (!arr || arr->empty()) fail(value, "lists." + list_name + ": expected a list of phrases");
      for (const toml::node& p : *arr) {
        if (!p.is_string()) fail(p, "lists." + list_name + ": expected strings (phrases)");
        if (p.value<std::string>()->starts_with("@")) {
          fail(p, "lists." + list_name + ": a list cannot name another list");
        }
      }
      named_.emplace(list_name, NamedList{arr, UINT32_MAX});
    }
  }

  void read_touchpoint(const toml::node& item, size_t index) {
    std::string at = "touchpoint[" + std::to_string(index) + "]";
    const toml::table* t = item.as_table();
    if (!t) fail(item, at + ": expected a table");
    for (auto&& [key, value] : *t) {
      if (key != "id" && key != "name" && key != "phrases" && key != "owner" && key != "standard" &&
          key != "people") {
        fail(value, at + "." + std::string(key.str()) +
                        ": unknown key (expected id, name, phrases, owner, standard, people)");
      }
    }
    Touchpoint tp;
    auto string_key = [&](const char* key, bool required) -> std::string {
      const toml::node* v = t->get(key);
      if (!v) {
        if (required) fail(*t, at + "." + key + ": missing");
        return {};
      }
      auto s = v->value<std::string>();
      if (!s) fail(*v, at + "." + key + ": expected a string");
      return *s;
    };
    tp.id = string_key("id", true);
    if (!is_identifier(tp.id)) {
      fail(*t->get("id"), at + ".id: \"" + tp.id + "\" must be lower-case letters, digits and _");
    }
    at = "touchpoint \"" + tp.id + "\"";
    const uint32_t line = t->get("id")->source().begin.line;
    if (auto it = seen_.find(tp.id); it != seen_.end()) {
      fail(*t->get("id"), at + ": duplicate id (first on line " + std::to_string(it->second) + ")");
    }
    seen_.emplace(tp.id, line);
    tp.name = string_key("name", false);
    if (tp.name.empty()) tp.name = tp.id;
    tp.owner = string_key("owner", false);
    if (const toml::node* v = t->get("standard")) {
      auto d = v->value<double>();
      if (!d) fail(*v, at + ".standard: expected a number");
      tp.standard = *d;
    }
    if (const toml::node* v = t->get("people")) {
      if (!v->is_boolean()) fail(*v, at + ".people: expected true or false");
      tp.people = *v->value<bool>();
    }
    const toml::node* phrases = t->get("phrases");
    if (!phrases) fail(*t, at + ".phrases: missing");
    const toml::array* arr = phrases->as_array();
    if (!arr) fail(*phrases, at + ".phrases: expected an array of phrases");
    if (arr->empty()) fail(*phrases, at + ".phrases: empty");
    const uint32_t tp_index = static_cast<uint32_t>(out_.touchpoints.size());
    for (const toml::node& p : *arr) {
      TpRef ref{tp_index, TpRef::kAlways};
      std::string phrase;
      if (auto s = p.value<std::string>()) {
        phrase = *s;
      } else if (const toml::table* entry = p.as_table()) {
        phrase = read_conditional(*entry, at, ref);
      } else {
        fail(p, at + ".phrases: expected strings or tables { phrase = \"...\", near = [...] }");
      }
      for (const auto& path : paths(p, at + ".phrases", phrase)) {
        uint32_t node = 0;
        for (uint64_t h : path) node = trie_.add_child(node, h);
        append_to_node(trie_.node(node), out_.refs, ref);
      }
      tp.phrases.push_back(phrase);
    }
    out_.touchpoints.push_back(std::move(tp));
  }

  // { phrase = "...", near = [...], not_near = [...], not_after = [...], not_before = [...],
  //   within = N }: the phrase; its condition goes to `ref`.
  std::string read_conditional(const toml::table& entry, const std::string& at, TpRef& ref) {
    const std::string where = at + ".phrases";
    for (auto&& [key, value] : entry) {
      if (key != "phrase" && key != "near" && key != "not_near" && key != "not_after" &&
          key != "not_before" && key != "within") {
        fail(value, where + "." + std::string(key.str()) +
                        ": unknown key (expected phrase, near, not_near, not_after, not_before, "
                        "within)");
      }
    }
    const toml::node* phrase = entry.get("phrase");
    if (!phrase) fail(entry, where + ": a table needs phrase = \"...\"");
    auto text = phrase->value<std::string>();
    if (!text) fail(*phrase, where + ".phrase: expected a string");
    Condition c;
    if (const toml::node* w = entry.get("within")) {
      auto n = w->value<int64_t>();
      if (!n || *n < 1 || *n > Condition::kMaxWithin) {
        fail(*w, where + ".within: expected a number of words from 1 to " +
                     std::to_string(Condition::kMaxWithin));
      }
      c.within = static_cast<uint32_t>(*n);
    }
    const std::pair<const char*, ContextSet*> fields[] = {{"near", &c.near},
                                                          {"not_near", &c.not_near},
                                                          {"not_after", &c.not_after},
                                                          {"not_before", &c.not_before}};
    bool any = false;
    for (const auto& [key, lists] : fields) {
      if (const toml::node* v = entry.get(key)) {
        *lists = read_context(*v, where + "." + key);
        any = true;
      }
    }
    if (!any)
      fail(entry, where + ": \"" + *text +
                      "\": a table needs near, not_near, not_after "
                      "or not_before (else write the phrase alone)");
    ref.condition = static_cast<uint32_t>(out_.conditions_.size());
    out_.conditions_.push_back(std::move(c));
    return *text;
  }

  // A condition's phrases: a string or an array of strings, each a phrase or "@list". The
  // phrases written out form one new context list; each "@list" is the named list's.
  ContextSet read_context(const toml::node& node, const std::string& where) {
    std::vector<const toml::node*> items;
    if (node.is_string()) {
      items.push_back(&node);
    } else if (const toml::array* arr = node.as_array(); arr && !arr->empty()) {
      for (const toml::node& n : *arr) items.push_back(&n);
    } else {
      fail(node, where + ": expected a phrase or a list of phrases");
    }
    ContextSet set;
    uint32_t inline_list = UINT32_MAX;
    for (const toml::node* n : items) {
      auto s = n->value<std::string>();
      if (!s) fail(*n, where + ": expected strings (phrases, or \"@name\" of a list in [lists])");
      if (s->starts_with("@")) {
        auto it = named_.find(s->substr(1));
        if (it == named_.end()) fail(*n, where + ": \"" + *s + "\": no such list in [lists]");
        if (it->second.id == UINT32_MAX) {
          it->second.id = new_list();
          for (const toml::node& p : *it->second.phrases) {
            add_context(p, "lists." + it->first, *p.value<std::string>(), it->second.id);
          }
        }
        set.lists.push_back(it->second.id);
        set.add(list_firsts_[it->second.id]);
      } else {
        if (inline_list == UINT32_MAX) set.lists.push_back(inline_list = new_list());
        add_context(*n, where, *s, inline_list);
      }
    }
    if (inline_list != UINT32_MAX) set.add(list_firsts_[inline_list]);
    return set;
  }

  uint32_t new_list() {
    list_firsts_.emplace_back();
    return lists_++;
  }

  void add_context(const toml::node& node, const std::string& where, const std::string& phrase,
                   uint32_t list) {
    for (const auto& path : paths(node, where, phrase)) {
      if (path.front() == kStartHash) {
        fail(node, where + ": \"" + phrase + "\": <start> cannot be used around a phrase");
      }
      list_firsts_[list].add_first(path.front());
      uint32_t n = 0;
      for (uint64_t h : path) n = out_.context_.add_child(n, h);
      append_to_node(out_.context_.node(n), out_.context_lists_, list);
    }
  }

  std::vector<std::vector<uint64_t>> paths(const toml::node& node, const std::string& where,
                                           const std::string& phrase) const {
    try {
      return parse_phrase(phrase);
    } catch (const std::invalid_argument& e) {
      fail(node, where + ": \"" + phrase + "\": " + e.what());
    }
  }

  struct NamedList {
    const toml::array* phrases;
    uint32_t id;  // UINT32_MAX until a condition uses it
  };
  std::string_view name_;
  PhraseTrie& trie_;
  Taxonomy& out_;
  std::unordered_map<std::string, NamedList> named_;
  std::unordered_map<std::string, uint32_t> seen_;  // touchpoint id -> line
  uint32_t lists_ = 0;
  std::vector<ContextSet> list_firsts_;  // by list id: the first words of its phrases
};

Taxonomy Taxonomy::load(std::string_view text, std::string_view name, PhraseTrie& trie) {
  Taxonomy out;
  TaxonomyLoader(name, trie, out).load(text);
  return out;
}

// Each context phrase starting at token `at` and ending at or before `limit`: found(list, end)
// for each of its lists, until found returns true.
template <class Found>
bool Taxonomy::walk(const Token* tokens, uint32_t at, uint32_t limit, Found&& found) const {
  return walk_phrases(context_, 0, tokens, at, limit, [&](uint32_t node, uint32_t end) {
    const TrieNode& nd = context_.node(node);
    for (uint32_t k = 0; k < nd.tp_count; ++k) {
      if (found(context_lists_[nd.tp_begin + k], end)) return true;
    }
    return false;
  });
}

void ContextSet::add_first(uint64_t hash) {
  if (hash == kNumHash) {
    first_num = true;
  } else {
    for (const uint64_t bit : {hash >> 54, (hash >> 44) & 1023}) {
      first_words[bit >> 6] |= uint64_t{1} << (bit & 63);
    }
  }
}

void ContextSet::add(const ContextSet& other) {
  for (size_t k = 0; k < std::size(first_words); ++k) first_words[k] |= other.first_words[k];
  first_num |= other.first_num;
}

// Whether a phrase of one of set's lists lies within tokens [lo, hi) and outside [skip_begin,
// skip_end).
bool Taxonomy::any_in(const ContextSet& set, const Token* tokens, uint32_t lo, uint32_t hi,
                      uint32_t skip_begin, uint32_t skip_end) const {
  for (uint32_t p = lo; p < hi; ++p) {
    if ((p >= skip_begin && p < skip_end) || !set.may_start(tokens[p])) continue;
    const uint32_t limit = p < skip_begin ? skip_begin : hi;
    if (walk(tokens, p, limit, [&](uint32_t list, uint32_t) { return set.contains(list); })) {
      return true;
    }
  }
  return false;
}

bool Taxonomy::names_practice(const Token* tokens, uint32_t begin, uint32_t end) const {
  return !practice_.empty() && any_in(practice_, tokens, begin, end, end, end);
}

bool Taxonomy::holds(const Condition& c, const Token* tokens, const MentionSpan& m) const {
  const uint32_t lo = m.start > m.sentence_begin + c.within ? m.start - c.within : m.sentence_begin;
  const uint32_t hi = std::min(m.sentence_end, m.end + c.within);
  if (!c.near.empty() && !any_in(c.near, tokens, lo, hi, m.start, m.end)) return false;
  if (!c.not_near.empty() && any_in(c.not_near, tokens, lo, hi, m.start, m.end)) return false;
  if (!c.not_before.empty() && m.end < m.sentence_end && c.not_before.may_start(tokens[m.end]) &&
      walk(tokens, m.end, m.sentence_end,
           [&](uint32_t list, uint32_t) { return c.not_before.contains(list); })) {
    return false;
  }
  if (!c.not_after.empty()) {
    const uint32_t from = m.start > m.sentence_begin + 10 ? m.start - 10 : m.sentence_begin;
    for (uint32_t p = from; p < m.start; ++p) {
      if (c.not_after.may_start(tokens[p]) &&
          walk(tokens, p, m.start, [&](uint32_t list, uint32_t end) {
            return end == m.start && c.not_after.contains(list);
          })) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace repwatch::sentiment::detail
