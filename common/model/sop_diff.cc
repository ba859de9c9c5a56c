#include "common/model/sop_diff.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/model/sop_body.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Changes = google::protobuf::RepeatedPtrField<v1::FieldChange>;

// ---------------------------------------------------------------- JSON

std::string MessageJson(const Message& message) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json).ok()) return "null";
  return json;
}

// Puts the scalar value of `field` in `from` (its element `index` when
// repeated) into `to`, a message of the same type: as its value, or as its
// first element.
void CopyScalar(const Message& from, const FieldDescriptor* field, int index, Message* to) {
  const Reflection& in = *from.GetReflection();
  const Reflection& out = *to->GetReflection();
  const bool repeated = field->is_repeated();
#define SOP_DIFF_COPY(CPPTYPE, Name)                                                              \
  case FieldDescriptor::CPPTYPE: {                                                                \
    auto value = repeated ? in.GetRepeated##Name(from, field, index) : in.Get##Name(from, field); \
    if (repeated) {                                                                               \
      out.Add##Name(to, field, std::move(value));                                                 \
    } else {                                                                                      \
      out.Set##Name(to, field, std::move(value));                                                 \
    }                                                                                             \
    return;                                                                                       \
  }
  switch (field->cpp_type()) {
    SOP_DIFF_COPY(CPPTYPE_INT32, Int32)
    SOP_DIFF_COPY(CPPTYPE_INT64, Int64)
    SOP_DIFF_COPY(CPPTYPE_UINT32, UInt32)
    SOP_DIFF_COPY(CPPTYPE_UINT64, UInt64)
    SOP_DIFF_COPY(CPPTYPE_FLOAT, Float)
    SOP_DIFF_COPY(CPPTYPE_DOUBLE, Double)
    SOP_DIFF_COPY(CPPTYPE_BOOL, Bool)
    SOP_DIFF_COPY(CPPTYPE_ENUM, EnumValue)
    SOP_DIFF_COPY(CPPTYPE_STRING, String)
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return;  // ValueJson writes messages itself.
  }
#undef SOP_DIFF_COPY
}

// The JSON value of `field` in `message` (its element `index` when
// repeated, -1 when singular), in the API's JSON mapping. A message as
// itself. A scalar as a google.protobuf.Value holding the value the mapping
// writes (enums by name, 64-bit integers as strings), which is cheap to
// describe to MessageToJsonString; a float or bytes, which a Value would
// write otherwise, as the only field of a message of its own,
// {"jsonName":VALUE} or {"jsonName":[VALUE]}, taken out of it.
std::string ValueJson(const Message& message, const FieldDescriptor* field, int index) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = index >= 0;
  google::protobuf::Value value;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageJson(repeated ? r.GetRepeatedMessage(message, field, index)
                                  : r.GetMessage(message, field));
    case FieldDescriptor::CPPTYPE_STRING:
      if (field->type() == FieldDescriptor::TYPE_BYTES) break;
      value.set_string_value(repeated ? r.GetRepeatedString(message, field, index)
                                      : r.GetString(message, field));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number =
          repeated ? r.GetRepeatedEnumValue(message, field, index) : r.GetEnumValue(message, field);
      const google::protobuf::EnumValueDescriptor* named =
          field->enum_type()->FindValueByNumber(number);
      if (named != nullptr) {
        value.set_string_value(named->name());
      } else {
        value.set_number_value(number);
      }
      return MessageJson(value);
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      value.set_bool_value(repeated ? r.GetRepeatedBool(message, field, index)
                                    : r.GetBool(message, field));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_INT32:
      value.set_number_value(repeated ? r.GetRepeatedInt32(message, field, index)
                                      : r.GetInt32(message, field));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_UINT32:
      value.set_number_value(repeated ? r.GetRepeatedUInt32(message, field, index)
                                      : r.GetUInt32(message, field));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      value.set_number_value(repeated ? r.GetRepeatedDouble(message, field, index)
                                      : r.GetDouble(message, field));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_INT64:
      value.set_string_value(absl::StrCat(repeated ? r.GetRepeatedInt64(message, field, index)
                                                   : r.GetInt64(message, field)));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_UINT64:
      value.set_string_value(absl::StrCat(repeated ? r.GetRepeatedUInt64(message, field, index)
                                                   : r.GetUInt64(message, field)));
      return MessageJson(value);
    case FieldDescriptor::CPPTYPE_FLOAT:
      break;
  }
  std::unique_ptr<Message> alone(message.New());
  CopyScalar(message, field, index, alone.get());
  const std::string json = MessageJson(*alone);
  const size_t head = field->json_name().size() + 4 + (repeated ? 1 : 0);
  const size_t tail = repeated ? 2 : 1;
  if (json.size() <= head + tail) return "null";
  return json.substr(head, json.size() - head - tail);
}

// ------------------------------------------------------------ equality

bool MessagesEqual(const Message& a, const Message& b);

// Whether element `i` of `field` in `a` equals element `j` in `b` (-1: the
// singular value).
bool ValuesEqual(const Message& a, int i, const Message& b, int j, const FieldDescriptor* field) {
  const Reflection& ra = *a.GetReflection();
  const Reflection& rb = *b.GetReflection();
#define SOP_DIFF_EQ(CPPTYPE, Name)                                                 \
  case FieldDescriptor::CPPTYPE:                                                   \
    return (i < 0 ? ra.Get##Name(a, field) : ra.GetRepeated##Name(a, field, i)) == \
           (j < 0 ? rb.Get##Name(b, field) : rb.GetRepeated##Name(b, field, j));
  switch (field->cpp_type()) {
    SOP_DIFF_EQ(CPPTYPE_INT32, Int32)
    SOP_DIFF_EQ(CPPTYPE_INT64, Int64)
    SOP_DIFF_EQ(CPPTYPE_UINT32, UInt32)
    SOP_DIFF_EQ(CPPTYPE_UINT64, UInt64)
    SOP_DIFF_EQ(CPPTYPE_FLOAT, Float)
    SOP_DIFF_EQ(CPPTYPE_DOUBLE, Double)
    SOP_DIFF_EQ(CPPTYPE_BOOL, Bool)
    SOP_DIFF_EQ(CPPTYPE_ENUM, EnumValue)
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch_a, scratch_b;
      return (i < 0 ? ra.GetStringReference(a, field, &scratch_a)
                    : ra.GetRepeatedStringReference(a, field, i, &scratch_a)) ==
             (j < 0 ? rb.GetStringReference(b, field, &scratch_b)
                    : rb.GetRepeatedStringReference(b, field, j, &scratch_b));
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessagesEqual(i < 0 ? ra.GetMessage(a, field) : ra.GetRepeatedMessage(a, field, i),
                           j < 0 ? rb.GetMessage(b, field) : rb.GetRepeatedMessage(b, field, j));
  }
#undef SOP_DIFF_EQ
  return false;
}

// Field by field, presence included, unknown fields ignored; a message with
// a map (a Struct inside a Value) is left to MessageDifferencer, which
// compares maps by key.
bool MessagesEqual(const Message& a, const Message& b) {
  if (&a == &b) return true;
  const Descriptor& descriptor = *a.GetDescriptor();
  const Reflection& ra = *a.GetReflection();
  const Reflection& rb = *b.GetReflection();
  for (int n = 0; n < descriptor.field_count(); ++n) {
    const FieldDescriptor* field = descriptor.field(n);
    if (field->is_map()) return google::protobuf::util::MessageDifferencer::Equals(a, b);
    if (field->is_repeated()) {
      const int size = ra.FieldSize(a, field);
      if (size != rb.FieldSize(b, field)) return false;
      for (int i = 0; i < size; ++i) {
        if (!ValuesEqual(a, i, b, i, field)) return false;
      }
      continue;
    }
    const bool has_a = ra.HasField(a, field);
    if (has_a != rb.HasField(b, field)) return false;
    if (has_a && !ValuesEqual(a, -1, b, -1, field)) return false;
  }
  return true;
}

// The quick test of two items, for the common case of items alike: equal
// serializations mean equal messages, and the items of an SOP serialize
// alike when equal (fields in number order, proto3 leaving out defaults),
// except for what only MessagesEqual sees equal (a -0.0, a Struct's map in
// another order, unknown fields). `bytes_x` and `bytes_y` are scratch space
// reused from item to item.
bool SameBytes(const Message& x, const Message& y, std::string* bytes_x, std::string* bytes_y) {
  if (&x == &y) return true;
  return x.SerializePartialToString(bytes_x) && y.SerializePartialToString(bytes_y) &&
         *bytes_x == *bytes_y;
}

// ------------------------------------------------------------- changes

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

// Appends the changes of one section.
class Sink {
 public:
  Sink(absl::string_view section, Changes* changes) : section_(section), changes_(changes) {}

  v1::FieldChange* Add(std::string path, v1::FieldChange::Kind kind, std::string before,
                       std::string after) {
    v1::FieldChange* change = changes_->Add();
    change->set_section(std::string(section_));
    change->set_path(std::move(path));
    change->set_kind(kind);
    change->set_before(std::move(before));
    change->set_after(std::move(after));
    return change;
  }

 private:
  absl::string_view section_;
  Changes* changes_;
};

v1::FieldChange::Kind KindOf(bool in_a, bool in_b) {
  if (!in_a) return v1::FieldChange::ADDED;
  if (!in_b) return v1::FieldChange::REMOVED;
  return v1::FieldChange::CHANGED;
}

// A singular field: a scalar, an enum or a message.
void DiffSingular(const Message& a, const Message& b, const FieldDescriptor* field,
                  absl::string_view prefix, Sink* sink) {
  // Without presence, HasField is "not at the default".
  const bool in_a = a.GetReflection()->HasField(a, field);
  const bool in_b = b.GetReflection()->HasField(b, field);
  if (!in_a && !in_b) return;
  if (in_a && in_b && ValuesEqual(a, -1, b, -1, field)) return;
  v1::FieldChange* change =
      sink->Add(Path(prefix, field->name()), KindOf(in_a, in_b),
                in_a ? ValueJson(a, field, -1) : "", in_b ? ValueJson(b, field, -1) : "");
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) return;
  std::string scratch_a, scratch_b;
  const std::string& text_a = a.GetReflection()->GetStringReference(a, field, &scratch_a);
  const std::string& text_b = b.GetReflection()->GetStringReference(b, field, &scratch_b);
  if (!absl::StrContains(text_a, '\n') && !absl::StrContains(text_b, '\n')) return;
  for (v1::LineChange& line : DiffLines(text_a, text_b)) *change->add_lines() = std::move(line);
}

// How the two sides of a list are paired: the partner's index, kNone, or
// kIgnored (a repeat in a set). `number` is what a path shows besides the
// key: the occurrence of the key (0 for the first) or the position within
// the day (cadence).
constexpr int kNone = -1;
constexpr int kIgnored = -2;

struct Matching {
  std::vector<int> a_to_b, b_to_a;
  std::vector<int> a_number, b_number;

  Matching(int size_a, int size_b)
      : a_to_b(size_a, kNone), b_to_a(size_b, kNone), a_number(size_a, 0), b_number(size_b, 0) {}

  void Pair(int i, int j) {
    a_to_b[i] = j;
    b_to_a[j] = i;
  }
};

// Calls pair(i, j), added(j) and removed(i) in the newer side's order, each
// removed item right after the last (in the newer side) of the partners of
// the items before it (first when they have none).
template <typename PairFn, typename AddedFn, typename RemovedFn>
void Walk(const Matching& m, PairFn pair, AddedFn added, RemovedFn removed) {
  std::vector<std::pair<int, int>> gone;  // (anchor in b or kNone, index in a)
  int anchor = kNone;
  for (int i = 0; i < static_cast<int>(m.a_to_b.size()); ++i) {
    if (m.a_to_b[i] >= 0) {
      anchor = std::max(anchor, m.a_to_b[i]);
    } else if (m.a_to_b[i] == kNone) {
      gone.emplace_back(anchor, i);
    }
  }
  // The anchors never decrease, so `gone` is in the order it is flushed in.
  size_t next = 0;
  auto flush = [&](int at) {
    while (next < gone.size() && gone[next].first == at) removed(gone[next++].second);
  };
  flush(kNone);
  for (int j = 0; j < static_cast<int>(m.b_to_a.size()); ++j) {
    if (m.b_to_a[j] >= 0) {
      pair(m.b_to_a[j], j);
    } else if (m.b_to_a[j] == kNone) {
      added(j);
    }
    flush(j);
  }
}

// ------------------------------------------------------------------ sets

std::string SetElement(const Message& m, const FieldDescriptor* field, int i) {
  const Reflection& r = *m.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return r.GetRepeatedString(m, field, i);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = r.GetRepeatedEnumValue(m, field, i);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      return value != nullptr ? value->name() : absl::StrCat(number);
    }
    default:
      return ValueJson(m, field, i);
  }
}

// A repeated scalar as a set: "visibility_roles[AE]".
void DiffSet(const Message& a, const Message& b, const FieldDescriptor* field,
             absl::string_view prefix, Sink* sink) {
  const int size_a = a.GetReflection()->FieldSize(a, field);
  const int size_b = b.GetReflection()->FieldSize(b, field);
  if (size_a == 0 && size_b == 0) return;
  std::vector<std::string> elements_a, elements_b;
  elements_a.reserve(size_a);
  elements_b.reserve(size_b);
  Matching m(size_a, size_b);
  absl::flat_hash_map<absl::string_view, int> first_a;
  for (int i = 0; i < size_a; ++i) elements_a.push_back(SetElement(a, field, i));
  for (int i = 0; i < size_a; ++i) {
    if (!first_a.emplace(elements_a[i], i).second) m.a_to_b[i] = kIgnored;
  }
  absl::flat_hash_map<absl::string_view, int> seen_b;
  for (int j = 0; j < size_b; ++j) elements_b.push_back(SetElement(b, field, j));
  for (int j = 0; j < size_b; ++j) {
    if (!seen_b.emplace(elements_b[j], j).second) {
      m.b_to_a[j] = kIgnored;
      continue;
    }
    auto it = first_a.find(elements_b[j]);
    if (it != first_a.end()) m.Pair(it->second, j);
  }
  const std::string path = Path(prefix, field->name());
  Walk(
      m, [](int, int) {},
      [&](int j) {
        sink->Add(absl::StrCat(path, "[", elements_b[j], "]"), v1::FieldChange::ADDED, "",
                  ValueJson(b, field, j));
      },
      [&](int i) {
        sink->Add(absl::StrCat(path, "[", elements_a[i], "]"), v1::FieldChange::REMOVED,
                  ValueJson(a, field, i), "");
      });
}

// ----------------------------------------------------------------- lists

// How the items of a list are paired and named.
struct ListRule {
  enum Type { kByKey, kCadence, kByIndex } type = kByIndex;
  const FieldDescriptor* key = nullptr;  // kByKey
};

ListRule RuleFor(const Descriptor* item) {
  const auto by_key = [item](int number) {
    return ListRule{ListRule::kByKey, item->FindFieldByNumber(number)};
  };
  if (item == v1::CadenceTouch::descriptor()) return ListRule{ListRule::kCadence};
  if (item == v1::Step::descriptor()) return by_key(v1::Step::kOrdinalFieldNumber);
  if (item == v1::SlaTerm::descriptor()) return by_key(v1::SlaTerm::kNameFieldNumber);
  if (item == v1::DisqualificationCode::descriptor()) {
    return by_key(v1::DisqualificationCode::kCodeFieldNumber);
  }
  if (item == v1::Asset::descriptor()) return by_key(v1::Asset::kIdFieldNumber);
  if (item == v1::FieldUpdate::descriptor()) return by_key(v1::FieldUpdate::kFieldFieldNumber);
  return ListRule{};  // targeting_rules, conditions
}

// The key's value as text: a number in decimal, a string as it is.
std::string KeyText(const Message& item, const FieldDescriptor* key) {
  const Reflection& r = *item.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r.GetInt32(item, key));
    case FieldDescriptor::CPPTYPE_STRING:
      return r.GetString(item, key);
    default:
      return ValueJson(item, key, -1);
  }
}

// Pairs the k-th item of each key in `a` with the k-th of that key in `b`,
// among the items not paired yet; their numbers become the occurrences of
// their keys (0 for the first).
void MatchByKeys(const std::vector<std::string>& keys_a, const std::vector<std::string>& keys_b,
                 Matching* m) {
  struct Occurrences {
    int first = kNone;  // the next item of `a` to pair
    int count_a = 0;
    int count_b = 0;
    int last = kNone;
  };
  std::vector<int> next(keys_a.size(), kNone);  // the item of `a` with the same key after i
  absl::flat_hash_map<absl::string_view, Occurrences> by_key;
  by_key.reserve(keys_a.size());
  for (int i = 0; i < static_cast<int>(keys_a.size()); ++i) {
    if (m->a_to_b[i] != kNone) continue;
    Occurrences& o = by_key[keys_a[i]];
    m->a_number[i] = o.count_a++;
    if (o.last == kNone) {
      o.first = i;
    } else {
      next[o.last] = i;
    }
    o.last = i;
  }
  for (int j = 0; j < static_cast<int>(keys_b.size()); ++j) {
    if (m->b_to_a[j] != kNone) continue;
    auto it = by_key.find(keys_b[j]);
    if (it == by_key.end()) {
      it = by_key.emplace(keys_b[j], Occurrences{}).first;
    }
    Occurrences& o = it->second;
    m->b_number[j] = o.count_b++;
    if (o.first != kNone) {
      m->Pair(o.first, j);
      o.first = next[o.first];
    }
  }
}

Matching MatchItems(const Message& a, const Message& b, const FieldDescriptor* list,
                    const ListRule& rule) {
  const Reflection& ra = *a.GetReflection();
  const Reflection& rb = *b.GetReflection();
  const int size_a = ra.FieldSize(a, list);
  const int size_b = rb.FieldSize(b, list);
  Matching m(size_a, size_b);
  switch (rule.type) {
    case ListRule::kByIndex:
      for (int i = 0; i < std::min(size_a, size_b); ++i) m.Pair(i, i);
      return m;
    case ListRule::kByKey: {
      std::vector<std::string> keys_a(size_a), keys_b(size_b);
      for (int i = 0; i < size_a; ++i)
        keys_a[i] = KeyText(ra.GetRepeatedMessage(a, list, i), rule.key);
      for (int j = 0; j < size_b; ++j)
        keys_b[j] = KeyText(rb.GetRepeatedMessage(b, list, j), rule.key);
      MatchByKeys(keys_a, keys_b, &m);
      return m;
    }
    case ListRule::kCadence:
      break;
  }
  // Cadence: first by (day, channel, action), then by position within the
  // day among the touches left.
  const auto touch = [list](const Message& sop, int i) -> const v1::CadenceTouch& {
    return static_cast<const v1::CadenceTouch&>(
        sop.GetReflection()->GetRepeatedMessage(sop, list, i));
  };
  const auto identity = [](const v1::CadenceTouch& t) {
    return absl::StrCat(t.day(), "|", t.channel(), "|", t.action());
  };
  std::vector<std::string> keys_a(size_a), keys_b(size_b);
  for (int i = 0; i < size_a; ++i) keys_a[i] = identity(touch(a, i));
  for (int j = 0; j < size_b; ++j) keys_b[j] = identity(touch(b, j));
  MatchByKeys(keys_a, keys_b, &m);
  struct Day {
    std::vector<int> left_a;  // touches of `a` not yet paired, in order
    size_t next = 0;
    int count_a = 0;
    int count_b = 0;
  };
  absl::flat_hash_map<int, Day> days;
  for (int i = 0; i < size_a; ++i) {
    Day& day = days[touch(a, i).day()];
    m.a_number[i] = ++day.count_a;
    if (m.a_to_b[i] == kNone) day.left_a.push_back(i);
  }
  for (int j = 0; j < size_b; ++j) {
    Day& day = days[touch(b, j).day()];
    m.b_number[j] = ++day.count_b;
    if (m.b_to_a[j] == kNone && day.next < day.left_a.size()) m.Pair(day.left_a[day.next++], j);
  }
  return m;
}

// The bracketed part of an item's path: "ordinal=2", "first_contact_window",
// "day=1,#2", "0".
std::string ItemLabel(const Message& item, int index, int number, const ListRule& rule) {
  switch (rule.type) {
    case ListRule::kByIndex:
      return absl::StrCat(index);
    case ListRule::kCadence:
      return absl::StrCat("day=", static_cast<const v1::CadenceTouch&>(item).day(), ",#", number);
    case ListRule::kByKey:
      break;
  }
  std::string label = KeyText(item, rule.key);
  if (rule.key->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    label = absl::StrCat(rule.key->name(), "=", label);
  }
  if (number > 0) absl::StrAppend(&label, ",#", number + 1);
  return label;
}

void DiffFields(const Message& a, const Message& b, absl::string_view prefix, Sink* sink);

// A repeated message. Items of a section's list (`whole` false) in both
// sides are compared field by field; the items of an item's list (`whole`)
// as a whole.
void DiffList(const Message& a, const Message& b, const FieldDescriptor* list,
              absl::string_view prefix, bool whole, Sink* sink) {
  const Reflection& ra = *a.GetReflection();
  const Reflection& rb = *b.GetReflection();
  if (ra.FieldSize(a, list) == 0 && rb.FieldSize(b, list) == 0) return;
  const ListRule rule = RuleFor(list->message_type());
  const Matching m = MatchItems(a, b, list, rule);
  const std::string path = Path(prefix, list->name());
  const auto item_path = [&](const Message& item, int index, int number) {
    return absl::StrCat(path, "[", ItemLabel(item, index, number, rule), "]");
  };
  std::string bytes_x, bytes_y;
  Walk(
      m,
      [&](int i, int j) {
        const Message& x = ra.GetRepeatedMessage(a, list, i);
        const Message& y = rb.GetRepeatedMessage(b, list, j);
        if (SameBytes(x, y, &bytes_x, &bytes_y) || MessagesEqual(x, y)) return;
        if (whole) {
          sink->Add(item_path(y, j, m.b_number[j]), v1::FieldChange::CHANGED, MessageJson(x),
                    MessageJson(y));
        } else {
          DiffFields(x, y, item_path(y, j, m.b_number[j]), sink);
        }
      },
      [&](int j) {
        const Message& y = rb.GetRepeatedMessage(b, list, j);
        sink->Add(item_path(y, j, m.b_number[j]), v1::FieldChange::ADDED, "", MessageJson(y));
      },
      [&](int i) {
        const Message& x = ra.GetRepeatedMessage(a, list, i);
        sink->Add(item_path(x, i, m.a_number[i]), v1::FieldChange::REMOVED, MessageJson(x), "");
      });
}

// Every field of two items in both sides.
void DiffFields(const Message& a, const Message& b, absl::string_view prefix, Sink* sink) {
  const Descriptor& descriptor = *a.GetDescriptor();
  for (int n = 0; n < descriptor.field_count(); ++n) {
    const FieldDescriptor* field = descriptor.field(n);
    if (!field->is_repeated()) {
      DiffSingular(a, b, field, prefix, sink);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      DiffList(a, b, field, prefix, /*whole=*/true, sink);
    } else {
      DiffSet(a, b, field, prefix, sink);
    }
  }
}

// --------------------------------------------------------------- lines

// The shortest edit script from `x` to `y` (lines as numbers, equal lines
// equal numbers), by Myers' greedy algorithm: appends (op, index) pairs, the
// index into `x` for KEPT and REMOVED, into `y` for ADDED. False, with
// nothing appended, when it takes more than kMaxLineEdits edits.
struct Edit {
  v1::LineChange::Op op;
  int index;
};

bool ShortestEdit(const std::vector<int>& x, const std::vector<int>& y, std::vector<Edit>* edits) {
  const int n = static_cast<int>(x.size());
  const int m = static_cast<int>(y.size());
  const int max_d = std::min(n + m, kMaxLineEdits);
  const int offset = max_d + 1;
  // v[offset + k]: the furthest x reached on diagonal k (x - y = k).
  std::vector<int> v(2 * static_cast<size_t>(max_d) + 3, 0);
  // After round e, v[k] for k in [-e, e] is kept at trace[e * e + e + k].
  std::vector<int> trace;
  int found = -1;
  for (int d = 0; d <= max_d && found < 0; ++d) {
    for (int k = -d; k <= d; k += 2) {
      int xx = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]))
                   ? v[offset + k + 1]
                   : v[offset + k - 1] + 1;
      int yy = xx - k;
      while (xx < n && yy < m && x[xx] == y[yy]) {
        ++xx;
        ++yy;
      }
      v[offset + k] = xx;
      if (xx >= n && yy >= m) {
        found = d;
        break;
      }
    }
    if (found < 0) trace.insert(trace.end(), v.begin() + offset - d, v.begin() + offset + d + 1);
  }
  if (found < 0) return false;
  std::vector<Edit> reversed;
  int xx = n;
  int yy = m;
  for (int d = found; d > 0; --d) {
    const int e = d - 1;
    const int* pv = trace.data() + e * e + e;  // pv[k], k in [-e, e]
    const int k = xx - yy;
    const bool down = k == -d || (k != d && pv[k - 1] < pv[k + 1]);
    const int pk = down ? k + 1 : k - 1;
    const int px = pv[pk];
    const int py = px - pk;
    const int start_x = down ? px : px + 1;  // where the snake of round d began
    while (xx > start_x) {
      --xx;
      --yy;
      reversed.push_back({v1::LineChange::KEPT, xx});
    }
    if (down) {
      reversed.push_back({v1::LineChange::ADDED, py});
    } else {
      reversed.push_back({v1::LineChange::REMOVED, px});
    }
    xx = px;
    yy = py;
  }
  while (xx > 0) reversed.push_back({v1::LineChange::KEPT, --xx});
  edits->insert(edits->end(), reversed.rbegin(), reversed.rend());
  return true;
}

std::vector<absl::string_view> SplitLines(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\n');
}

}  // namespace

std::vector<v1::LineChange> DiffLines(absl::string_view a, absl::string_view b) {
  const std::vector<absl::string_view> lines_a = SplitLines(a);
  const std::vector<absl::string_view> lines_b = SplitLines(b);
  std::vector<v1::LineChange> out;
  out.reserve(std::max(lines_a.size(), lines_b.size()));
  const auto emit = [&out](v1::LineChange::Op op, absl::string_view text) {
    v1::LineChange& line = out.emplace_back();
    line.set_op(op);
    line.set_text(std::string(text));
  };
  size_t head = 0;
  while (head < lines_a.size() && head < lines_b.size() && lines_a[head] == lines_b[head]) ++head;
  size_t tail = 0;
  while (tail < lines_a.size() - head && tail < lines_b.size() - head &&
         lines_a[lines_a.size() - 1 - tail] == lines_b[lines_b.size() - 1 - tail]) {
    ++tail;
  }
  for (size_t i = 0; i < head; ++i) emit(v1::LineChange::KEPT, lines_a[i]);
  // The middle, each distinct line as a number.
  absl::flat_hash_map<absl::string_view, int> numbers;
  std::vector<int> x, y;
  for (size_t i = head; i < lines_a.size() - tail; ++i) {
    x.push_back(numbers.emplace(lines_a[i], static_cast<int>(numbers.size())).first->second);
  }
  for (size_t i = head; i < lines_b.size() - tail; ++i) {
    y.push_back(numbers.emplace(lines_b[i], static_cast<int>(numbers.size())).first->second);
  }
  std::vector<Edit> edits;
  if (!ShortestEdit(x, y, &edits)) {
    for (size_t i = 0; i < x.size(); ++i)
      edits.push_back({v1::LineChange::REMOVED, static_cast<int>(i)});
    for (size_t i = 0; i < y.size(); ++i)
      edits.push_back({v1::LineChange::ADDED, static_cast<int>(i)});
  }
  for (const Edit& edit : edits) {
    emit(edit.op, edit.op == v1::LineChange::ADDED ? lines_b[head + edit.index]
                                                   : lines_a[head + edit.index]);
  }
  for (size_t i = lines_a.size() - tail; i < lines_a.size(); ++i) {
    emit(v1::LineChange::KEPT, lines_a[i]);
  }
  return out;
}

void DiffSops(const v1::Sop& a, const v1::Sop& b, v1::SopDiff* diff) {
  Changes* changes = diff->mutable_changes();
  changes->Clear();
  const Descriptor& descriptor = *v1::Sop::descriptor();
  for (int n = 0; n < descriptor.field_count(); ++n) {
    const FieldDescriptor* field = descriptor.field(n);
    if (!IsMutableSopField(field)) continue;
    Sink sink(field->name(), changes);
    if (!field->is_repeated()) {
      DiffSingular(a, b, field, "", &sink);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      DiffList(a, b, field, "", /*whole=*/false, &sink);
    } else {
      DiffSet(a, b, field, "", &sink);
    }
  }
}

}  // namespace sopsidebar
