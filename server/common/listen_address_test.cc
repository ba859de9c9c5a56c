#include "server/common/listen_address.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(ListenAddressTest, LoopbackIsLocalhost127Slash8AndColonColon1) {
  for (const char* address :
       {"127.0.0.1:8080", "127.1.2.3:0", "localhost:50051", "[::1]:80", "::1:80"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
}

TEST(ListenAddressTest, AnyOtherAddressOrANameThatLooksLoopbackIsNot) {
  for (const char* address :
       {"0.0.0.0:80", "10.1.2.3:80", "[::]:80", "[::2]:80", "127.example.com:80",
        "localhost.example.com:80", "[localhost]:80", "nonsense", "127.0.0.1", ""}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

}  // namespace
}  // namespace sopsidebar
