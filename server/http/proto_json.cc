#include "server/http/proto_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/json_string.h"
#include "common/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The shortest text that reads back as `value`, as JSON has numbers.
template <typename Number>
void AppendNumber(Number value, std::string* out) {
  char buffer[32];
  const std::to_chars_result written = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, written.ptr);
}

// A float or double field: JSON has no NaN or infinities, so proto3 JSON
// writes them as strings.
template <typename Number>
void AppendFloating(Number value, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    AppendNumber(value, out);
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  absl::Status Write(const Message& message) {
    switch (message.GetDescriptor()->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_UNSPECIFIED:
        return WriteObject(message);
      case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
        return WriteTimestamp(message);
      case Descriptor::WELLKNOWNTYPE_DURATION:
        return WriteDuration(message);
      case Descriptor::WELLKNOWNTYPE_FIELDMASK:
        return WriteFieldMask(message);
      case Descriptor::WELLKNOWNTYPE_VALUE:
        if (const auto* value =
                google::protobuf::DynamicCastToGenerated<google::protobuf::Value>(&message)) {
          return WriteValue(*value);
        }
        return WriteWithProtobuf(message);
      case Descriptor::WELLKNOWNTYPE_LISTVALUE:
        if (const auto* list =
                google::protobuf::DynamicCastToGenerated<google::protobuf::ListValue>(&message)) {
          return WriteListValue(*list);
        }
        return WriteWithProtobuf(message);
      case Descriptor::WELLKNOWNTYPE_STRUCT:
        if (const auto* object =
                google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(&message)) {
          return WriteStruct(*object);
        }
        return WriteWithProtobuf(message);
      default:
        return WriteWithProtobuf(message);
    }
  }

 private:
  absl::Status WriteObject(const Message& message) {
    const Reflection* reflection = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);  // the set ones, by number
    out_->push_back('{');
    bool first = true;
    for (const FieldDescriptor* field : fields) {
      if (field->is_extension()) continue;  // not in proto3 JSON
      if (!first) out_->push_back(',');
      first = false;
      AppendJsonString(field->json_name(), out_);
      out_->push_back(':');
      absl::Status written = field->is_map()        ? WriteMap(message, field)
                             : field->is_repeated() ? WriteRepeated(message, field)
                                                    : WriteSingular(message, field);
      if (!written.ok()) return written;
    }
    out_->push_back('}');
    return absl::OkStatus();
  }

  absl::Status WriteRepeated(const Message& message, const FieldDescriptor* field) {
    const Reflection* reflection = message.GetReflection();
    out_->push_back('[');
    const int size = reflection->FieldSize(message, field);
    for (int i = 0; i < size; ++i) {
      if (i > 0) out_->push_back(',');
      absl::Status written = WriteElement(message, field, i);
      if (!written.ok()) return written;
    }
    out_->push_back(']');
    return absl::OkStatus();
  }

  absl::Status WriteMap(const Message& message, const FieldDescriptor* field) {
    const Reflection* reflection = message.GetReflection();
    const FieldDescriptor* key = field->message_type()->map_key();
    const FieldDescriptor* value = field->message_type()->map_value();
    out_->push_back('{');
    const int size = reflection->FieldSize(message, field);
    for (int i = 0; i < size; ++i) {
      if (i > 0) out_->push_back(',');
      const Message& entry = reflection->GetRepeatedMessage(message, field, i);
      const Reflection* entry_reflection = entry.GetReflection();
      // Keys are strings in JSON, whatever their type.
      std::string name;
      switch (key->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          name = entry_reflection->GetString(entry, key);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          name = entry_reflection->GetBool(entry, key) ? "true" : "false";
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          name = absl::StrCat(entry_reflection->GetInt32(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          name = absl::StrCat(entry_reflection->GetInt64(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          name = absl::StrCat(entry_reflection->GetUInt32(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          name = absl::StrCat(entry_reflection->GetUInt64(entry, key));
          break;
        default:
          return absl::InternalError(absl::StrCat("map key type of ", field->full_name()));
      }
      AppendJsonString(name, out_);
      out_->push_back(':');
      absl::Status written = WriteSingular(entry, value);
      if (!written.ok()) return written;
    }
    out_->push_back('}');
    return absl::OkStatus();
  }

  // Element `index` of a repeated field, or the singular field's value
  // (index -1).
  absl::Status WriteElement(const Message& message, const FieldDescriptor* field, int index) {
    const Reflection* r = message.GetReflection();
    const bool rep = index >= 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        AppendNumber(rep ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field),
                     out_);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        AppendNumber(
            rep ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field), out_);
        break;
      case FieldDescriptor::CPPTYPE_INT64:  // strings: JSON numbers lose 64-bit precision
        out_->push_back('"');
        AppendNumber(rep ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field),
                     out_);
        out_->push_back('"');
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        out_->push_back('"');
        AppendNumber(
            rep ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field), out_);
        out_->push_back('"');
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        AppendFloating(
            rep ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field), out_);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        AppendFloating(
            rep ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field), out_);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_->append((rep ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field))
                         ? "true"
                         : "false");
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number =
            rep ? r->GetRepeatedEnumValue(message, field, index) : r->GetEnumValue(message, field);
        const google::protobuf::EnumValueDescriptor* value =
            field->enum_type()->FindValueByNumber(number);
        if (value == nullptr) {
          AppendNumber(number, out_);  // a value this build does not know
        } else {
          AppendJsonString(value->name(), out_);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& text =
            rep ? r->GetRepeatedStringReference(message, field, index, &scratch)
                : r->GetStringReference(message, field, &scratch);
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          out_->push_back('"');
          out_->append(absl::Base64Escape(text));
          out_->push_back('"');
        } else {
          AppendJsonString(text, out_);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Write(rep ? r->GetRepeatedMessage(message, field, index)
                         : r->GetMessage(message, field));
    }
    return absl::OkStatus();
  }

  absl::Status WriteSingular(const Message& message, const FieldDescriptor* field) {
    return WriteElement(message, field, -1);
  }

  absl::Status WriteTimestamp(const Message& message) {
    google::protobuf::Timestamp time;
    time.CopyFrom(message);
    // 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, as RFC 3339 has them.
    if (time.seconds() < -62135596800 || time.seconds() > 253402300799 || time.nanos() < 0 ||
        time.nanos() > 999999999) {
      return absl::InvalidArgumentError(
          absl::StrCat("timestamp out of range: ", time.seconds(), "s"));
    }
    AppendJsonString(google::protobuf::util::TimeUtil::ToString(time), out_);
    return absl::OkStatus();
  }

  absl::Status WriteDuration(const Message& message) {
    google::protobuf::Duration duration;
    duration.CopyFrom(message);
    // About ±10,000 years, its seconds and nanos of one sign.
    constexpr int64_t kMaxSeconds = 315576000000;
    if (duration.seconds() < -kMaxSeconds || duration.seconds() > kMaxSeconds ||
        duration.nanos() < -999999999 || duration.nanos() > 999999999 ||
        (duration.seconds() > 0 && duration.nanos() < 0) ||
        (duration.seconds() < 0 && duration.nanos() > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("duration out of range: ", duration.seconds(), "s"));
    }
    AppendJsonString(google::protobuf::util::TimeUtil::ToString(duration), out_);
    return absl::OkStatus();
  }

  absl::Status WriteFieldMask(const Message& message) {
    google::protobuf::FieldMask mask;
    mask.CopyFrom(message);
    std::string paths;
    if (!google::protobuf::util::FieldMaskUtil::ToJsonString(mask, &paths)) {
      return absl::InvalidArgumentError("a field mask path has no JSON name");
    }
    AppendJsonString(paths, out_);
    return absl::OkStatus();
  }

  absl::Status WriteValue(const google::protobuf::Value& value) {
    switch (value.kind_case()) {
      case google::protobuf::Value::kNumberValue:
        if (!std::isfinite(value.number_value())) {
          return absl::InvalidArgumentError("a google.protobuf.Value number is NaN or infinite");
        }
        AppendNumber(value.number_value(), out_);
        return absl::OkStatus();
      case google::protobuf::Value::kStringValue:
        AppendJsonString(value.string_value(), out_);
        return absl::OkStatus();
      case google::protobuf::Value::kBoolValue:
        out_->append(value.bool_value() ? "true" : "false");
        return absl::OkStatus();
      case google::protobuf::Value::kStructValue:
        return WriteStruct(value.struct_value());
      case google::protobuf::Value::kListValue:
        return WriteListValue(value.list_value());
      case google::protobuf::Value::kNullValue:
      case google::protobuf::Value::KIND_NOT_SET:
        out_->append("null");
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  absl::Status WriteListValue(const google::protobuf::ListValue& list) {
    out_->push_back('[');
    for (int i = 0; i < list.values_size(); ++i) {
      if (i > 0) out_->push_back(',');
      absl::Status written = WriteValue(list.values(i));
      if (!written.ok()) return written;
    }
    out_->push_back(']');
    return absl::OkStatus();
  }

  absl::Status WriteStruct(const google::protobuf::Struct& object) {
    out_->push_back('{');
    bool first = true;
    for (const auto& [name, value] : object.fields()) {
      if (!first) out_->push_back(',');
      first = false;
      AppendJsonString(name, out_);
      out_->push_back(':');
      absl::Status written = WriteValue(value);
      if (!written.ok()) return written;
    }
    out_->push_back('}');
    return absl::OkStatus();
  }

  // The well-known types sopd's API does not use (Any, the wrappers), as
  // protobuf writes them.
  absl::Status WriteWithProtobuf(const Message& message) {
    std::string json;
    auto converted = google::protobuf::util::MessageToJsonString(message, &json);
    if (!converted.ok()) return absl::InvalidArgumentError(std::string(converted.message()));
    out_->append(json);
    return absl::OkStatus();
  }

  std::string* const out_;
};

// A strict reader of the JSON requests sopd takes, straight into the
// message: false means "not taken here" (the caller asks protobuf), never a
// verdict on the input.
class JsonReader {
 public:
  explicit JsonReader(absl::string_view json) : in_(json) {}

  bool ReadMessage(Message* message) {
    if (!Object(message, 0)) return false;
    SkipSpace();
    return pos_ == in_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char Peek() {
    SkipSpace();
    return pos_ < in_.size() ? in_[pos_] : '\0';
  }

  // A JSON string of valid UTF-8, with the simple escapes; \u escapes are
  // left to protobuf.
  bool String(std::string* out) {
    if (!Consume('"')) return false;
    out->clear();
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (pos_ + 1 >= in_.size()) return false;
        switch (in_[pos_ + 1]) {
          case '"':
            out->push_back('"');
            break;
          case '\\':
            out->push_back('\\');
            break;
          case '/':
            out->push_back('/');
            break;
          case 'n':
            out->push_back('\n');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'r':
            out->push_back('\r');
            break;
          default:
            return false;
        }
        pos_ += 2;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x80) {
        out->push_back(c);
        ++pos_;
        continue;
      }
      const Utf8Char decoded = DecodeUtf8At(in_, pos_);
      if (!decoded.valid) return false;
      out->append(in_.data() + pos_, decoded.size);
      pos_ += decoded.size;
    }
    return false;
  }

  // A JSON number's text: digits, with a sign, fraction and exponent.
  bool NumberText(absl::string_view* text) {
    SkipSpace();
    const size_t start = pos_;
    while (pos_ < in_.size() &&
           (absl::ascii_isdigit(in_[pos_]) || in_[pos_] == '-' || in_[pos_] == '+' ||
            in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
    }
    *text = in_.substr(start, pos_ - start);
    // JSON has no leading zeros ("007"), nor a leading '+': protobuf's call.
    const absl::string_view digits = absl::StripPrefix(*text, "-");
    return !digits.empty() && absl::ascii_isdigit(digits[0]) &&
           !(digits.size() > 1 && digits[0] == '0' && absl::ascii_isdigit(digits[1]));
  }

  bool Bool(bool* value) {
    SkipSpace();
    for (const bool truth : {true, false}) {
      const absl::string_view word = truth ? "true" : "false";
      if (in_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        *value = truth;
        return true;
      }
    }
    return false;
  }

  bool Double(double* value) {
    absl::string_view text;
    if (!NumberText(&text)) return false;
    const std::from_chars_result read = std::from_chars(text.begin(), text.end(), *value);
    return read.ec == std::errc() && read.ptr == text.end() && std::isfinite(*value);
  }

  // A plain decimal integer (no fraction, exponent or quotes: those are
  // protobuf's to read).
  template <typename Int>
  bool Integer(Int* value) {
    absl::string_view text;
    if (!NumberText(&text)) return false;
    const std::from_chars_result read = std::from_chars(text.begin(), text.end(), *value);
    return read.ec == std::errc() && read.ptr == text.end();
  }

  // The field whose JSON name (lowerCamelCase) or proto name is `name`.
  static const FieldDescriptor* FieldNamed(const Descriptor* type, const std::string& name) {
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (field->json_name() == name || field->name() == name) return field;
    }
    return nullptr;
  }

  bool Object(Message* message, int depth) {
    if (depth > kMaxDepth || !Consume('{')) return false;
    const Descriptor* type = message->GetDescriptor();
    if (Consume('}')) return true;
    std::vector<const FieldDescriptor*> seen;
    std::string name;
    do {
      if (!String(&name) || !Consume(':')) return false;
      const FieldDescriptor* field = FieldNamed(type, name);
      if (field == nullptr) return false;  // unknown: protobuf says so
      for (const FieldDescriptor* other : seen) {
        // The same field twice, or two members of one oneof.
        if (other == field || (field->real_containing_oneof() != nullptr &&
                               other->real_containing_oneof() == field->real_containing_oneof())) {
          return false;
        }
      }
      seen.push_back(field);
      if (Peek() == 'n') return false;  // null: protobuf's rules
      if (!(field->is_map()        ? Map(message, field, depth)
            : field->is_repeated() ? Repeated(message, field, depth)
                                   : Singular(message, field, depth))) {
        return false;
      }
    } while (Consume(','));
    return Consume('}');
  }

  bool Repeated(Message* message, const FieldDescriptor* field, int depth) {
    if (!Consume('[')) return false;
    if (Consume(']')) return true;
    do {
      if (Peek() == 'n') return false;
      if (!Element(message, field, depth, /*repeated=*/true)) return false;
    } while (Consume(','));
    return Consume(']');
  }

  bool Map(Message* message, const FieldDescriptor* field, int depth) {
    const FieldDescriptor* key = field->message_type()->map_key();
    const FieldDescriptor* value = field->message_type()->map_value();
    if (key->cpp_type() != FieldDescriptor::CPPTYPE_STRING || !Consume('{')) return false;
    if (Consume('}')) return true;
    const Reflection* reflection = message->GetReflection();
    std::vector<std::string> keys;
    std::string name;
    do {
      if (!String(&name) || !Consume(':')) return false;
      if (std::find(keys.begin(), keys.end(), name) != keys.end()) return false;
      keys.push_back(name);
      Message* entry = reflection->AddMessage(message, field);
      entry->GetReflection()->SetString(entry, key, name);
      if (Peek() == 'n' && value->message_type() != nullptr &&
          value->message_type()->well_known_type() != Descriptor::WELLKNOWNTYPE_VALUE) {
        return false;
      }
      if (!Singular(entry, value, depth)) return false;
    } while (Consume(','));
    return Consume('}');
  }

  bool Singular(Message* message, const FieldDescriptor* field, int depth) {
    return Element(message, field, depth, /*repeated=*/false);
  }

  bool Element(Message* message, const FieldDescriptor* field, int depth, bool repeated) {
    const Reflection* r = message->GetReflection();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        if (!Integer(&v)) return false;
        repeated ? r->AddInt32(message, field, v) : r->SetInt32(message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        if (!Integer(&v)) return false;
        repeated ? r->AddUInt32(message, field, v) : r->SetUInt32(message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool v;
        if (!Bool(&v)) return false;
        repeated ? r->AddBool(message, field, v) : r->SetBool(message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double v;
        if (!Double(&v)) return false;
        repeated ? r->AddDouble(message, field, v) : r->SetDouble(message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        if (field->type() == FieldDescriptor::TYPE_BYTES) return false;  // base64: protobuf's
        std::string v;
        if (!String(&v)) return false;
        repeated ? r->AddString(message, field, std::move(v))
                 : r->SetString(message, field, std::move(v));
        return true;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        std::string name;
        if (!String(&name)) return false;
        const google::protobuf::EnumValueDescriptor* v = field->enum_type()->FindValueByName(name);
        if (v == nullptr) return false;
        repeated ? r->AddEnumValue(message, field, v->number())
                 : r->SetEnumValue(message, field, v->number());
        return true;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Message* child =
            repeated ? r->AddMessage(message, field) : r->MutableMessage(message, field);
        return MessageValue(child, depth + 1);
      }
      default:  // 64-bit integers (strings or numbers) and floats: protobuf's
        return false;
    }
  }

  bool MessageValue(Message* message, int depth) {
    switch (message->GetDescriptor()->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_UNSPECIFIED:
        return Object(message, depth);
      case Descriptor::WELLKNOWNTYPE_VALUE:
        if (auto* value =
                google::protobuf::DynamicCastToGenerated<google::protobuf::Value>(message)) {
          return Value(value, depth);
        }
        return false;
      case Descriptor::WELLKNOWNTYPE_TIMESTAMP: {
        std::string text;
        google::protobuf::Timestamp time;
        if (!String(&text) || !google::protobuf::util::TimeUtil::FromString(text, &time)) {
          return false;
        }
        message->CopyFrom(time);
        return true;
      }
      default:  // Duration, FieldMask, Struct, ListValue, Any, wrappers: protobuf's
        return false;
    }
  }

  bool Value(google::protobuf::Value* value, int depth) {
    if (depth > kMaxDepth) return false;
    switch (Peek()) {
      case '"': {
        std::string text;
        if (!String(&text)) return false;
        value->set_string_value(std::move(text));
        return true;
      }
      case 't':
      case 'f': {
        bool truth;
        if (!Bool(&truth)) return false;
        value->set_bool_value(truth);
        return true;
      }
      case 'n':
        if (in_.substr(pos_, 4) != "null") return false;
        pos_ += 4;
        value->set_null_value(google::protobuf::NULL_VALUE);
        return true;
      case '[': {
        Consume('[');
        google::protobuf::ListValue* list = value->mutable_list_value();
        if (Consume(']')) return true;
        do {
          if (!Value(list->add_values(), depth + 1)) return false;
        } while (Consume(','));
        return Consume(']');
      }
      case '{':
        return false;  // a Struct: protobuf's
      default: {
        double number;
        if (!Double(&number)) return false;
        value->set_number_value(number);
        return true;
      }
    }
  }

  const absl::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status AppendMessageJson(const Message& message, std::string* out) {
  const size_t size = out->size();
  absl::Status written = JsonWriter(out).Write(message);
  if (!written.ok()) out->resize(size);
  return written;
}

}  // namespace sopsidebar

namespace sopsidebar {

absl::Status ParseMessageJson(absl::string_view json, google::protobuf::Message* message) {
  message->Clear();
  if (JsonReader(json).ReadMessage(message)) return absl::OkStatus();
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!parsed.ok()) {
    message->Clear();
    return absl::InvalidArgumentError(std::string(parsed.message()));
  }
  return absl::OkStatus();
}

}  // namespace sopsidebar
