#include "common/model/field_behavior.h"

#include <memory>

#include "common/model/sop_body.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

// A message as a future version of the API might declare it: a writable
// field numbered after the output-only ones, and an output-only field
// numbered among the writable ones. Behaviour comes from the declaration.
constexpr char kFutureSop[] = R"pb(
  name: "future_sop.proto"
  package: "future"
  dependency: "sopsidebar/v1/field_behavior.proto"
  syntax: "proto3"
  message_type {
    name: "Sop"
    field {
      name: "name" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL
      options { [sopsidebar.v1.field_behavior]: FIELD_BEHAVIOR_IDENTIFIER }
    }
    field {
      name: "title" number: 2 type: TYPE_STRING label: LABEL_OPTIONAL
      options { [sopsidebar.v1.field_behavior]: FIELD_BEHAVIOR_REQUIRED }
    }
    field {
      name: "computed_score" number: 3 type: TYPE_INT32 label: LABEL_OPTIONAL
      options { [sopsidebar.v1.field_behavior]: FIELD_BEHAVIOR_OUTPUT_ONLY }
    }
    field { name: "region_note" number: 30 type: TYPE_STRING label: LABEL_OPTIONAL }
  }
)pb";

class FutureSopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The generated pool underlies this one, so field_behavior.proto and
    // its extension are known.
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kFutureSop, &file));
    ASSERT_NE(pool_.BuildFile(file), nullptr);
    sop_ = pool_.FindMessageTypeByName("future.Sop");
    ASSERT_NE(sop_, nullptr);
  }

  const FieldDescriptor* Field(const char* name) const { return sop_->FindFieldByName(name); }

  DescriptorPool pool_{DescriptorPool::generated_pool()};
  const Descriptor* sop_ = nullptr;
};

TEST_F(FutureSopTest, AFieldNumberedAfterTheOutputOnlyOnesIsWritableUnlessDeclaredOtherwise) {
  EXPECT_TRUE(IsWritableField(Field("region_note")));
  EXPECT_TRUE(IsWritableField(Field("title")));
}

TEST_F(FutureSopTest, OutputOnlyAndIdentifierFieldsAreNotWritableWhateverTheirNumber) {
  EXPECT_FALSE(IsWritableField(Field("computed_score")));
  EXPECT_FALSE(IsWritableField(Field("name")));
  EXPECT_TRUE(HasFieldBehavior(Field("title"), v1::FIELD_BEHAVIOR_REQUIRED));
  EXPECT_FALSE(HasFieldBehavior(Field("region_note"), v1::FIELD_BEHAVIOR_REQUIRED));
}

TEST(FieldBehaviorTest, NullIsNeitherWritableNorDeclared) {
  EXPECT_FALSE(IsWritableField(nullptr));
  EXPECT_FALSE(HasFieldBehavior(nullptr, v1::FIELD_BEHAVIOR_OUTPUT_ONLY));
}

// The server-set fields of Sop are exactly those declared output only (and
// the name, its identifier): what ClearOutputOnlyFields clears and what an
// update never takes from a request.
TEST(FieldBehaviorTest, SopFieldsAreMutableExactlyWhenNotDeclaredOutputOnlyOrIdentifier) {
  const Descriptor* sop = v1::Sop::descriptor();
  int output_only = 0;
  for (int i = 0; i < sop->field_count(); ++i) {
    const FieldDescriptor* f = sop->field(i);
    const bool server_set = HasFieldBehavior(f, v1::FIELD_BEHAVIOR_OUTPUT_ONLY) ||
                            HasFieldBehavior(f, v1::FIELD_BEHAVIOR_IDENTIFIER);
    output_only += HasFieldBehavior(f, v1::FIELD_BEHAVIOR_OUTPUT_ONLY);
    EXPECT_EQ(IsMutableSopField(f), !server_set) << f->name();
  }
  EXPECT_EQ(output_only, 12);
  EXPECT_TRUE(HasFieldBehavior(sop->FindFieldByName("etag"), v1::FIELD_BEHAVIOR_OUTPUT_ONLY));
  // Copied from the template at creation; writers never set or drop it.
  EXPECT_FALSE(IsMutableSopField(sop->FindFieldByName("template_use")));
  EXPECT_TRUE(HasFieldBehavior(sop->FindFieldByName("name"), v1::FIELD_BEHAVIOR_IDENTIFIER));
  EXPECT_TRUE(IsMutableSopField(sop->FindFieldByName("owner_user_id")));
}

}  // namespace
}  // namespace sopsidebar
