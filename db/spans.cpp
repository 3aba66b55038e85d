// repwatch/db/spans.cpp - evidence as stored: [offset, length] spans of the review text
// (encode_spans(), decode_spans(); see db/store.h).
#include <rapidjson/document.h>

#include <charconv>
#include <string>
#include <string_view>

#include "db/store.h"

namespace repwatch::db {

void encode_spans(const std::vector<Evidence>& spans, std::string& out) {
  // Written through a pointer into room for the longest pair: appending char by char costs
  // more than the numbers (this runs for every analysis and touchpoint hit stored).
  constexpr size_t kMaxPair = 2 * 20 + 4;  // "[offset,length]," with 64-bit numbers
  out.resize(2 + spans.size() * kMaxPair);
  char* p = out.data();
  char* const end = p + out.size();
  *p++ = '[';
  for (const Evidence& e : spans) {
    if (p != out.data() + 1) *p++ = ',';
    *p++ = '[';
    p = std::to_chars(p, end, e.offset).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, e.length).ptr;
    *p++ = ']';
  }
  *p++ = ']';
  out.resize(static_cast<size_t>(p - out.data()));
}

std::optional<std::vector<Evidence>> decode_spans(std::string_view json, std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) return std::nullopt;
  std::vector<Evidence> out;
  out.reserve(doc.Size());
  for (const auto& v : doc.GetArray()) {
    if (!v.IsArray() || v.Size() != 2 || !v[0].IsUint() || !v[1].IsUint()) return std::nullopt;
    uint64_t offset = v[0].GetUint(), length = v[1].GetUint();
    if (offset + length > text.size()) continue;
    out.push_back({std::string(text.substr(offset, length)), static_cast<uint32_t>(offset),
                   static_cast<uint32_t>(length)});
  }
  return out;
}
}  // namespace repwatch::db
