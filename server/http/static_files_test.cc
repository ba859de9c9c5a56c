#include "server/http/static_files.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(HttpStaticFilesTest, ContentTypeFollowsTheExtension) {
  EXPECT_EQ(ContentTypeForPath("/demo/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeForPath("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeForPath("a/b.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeForPath("logo.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeForPath("logo.png"), "image/png");
  EXPECT_EQ(ContentTypeForPath("data.json"), "application/json");
  EXPECT_EQ(ContentTypeForPath("app.js.map"), "application/json");
  EXPECT_EQ(ContentTypeForPath("README"), "application/octet-stream");
}

TEST(HttpStaticFilesTest, HtmlIsRevalidatedAndHashedAssetsCachedForAYear) {
  EXPECT_EQ(CacheControlForPath("index.html"), "no-cache");
  EXPECT_EQ(CacheControlForPath("app.3f9a2c1d.js"), "public, max-age=31536000, immutable");
  EXPECT_EQ(CacheControlForPath("app.js"), "public, max-age=300");
  EXPECT_EQ(CacheControlForPath("deadbeef99.js"), "public, max-age=300");
}

TEST(HttpStaticFilesTest, DecodingRefusesTraversalAndBadEscapes) {
  EXPECT_EQ(*DecodeUrlPath("/demo/a%20b.js"), "/demo/a b.js");
  for (const char* bad : {"demo", "/../x", "/a/./b", "/a/%2e%2e/b", "/a/%2E./b", "/a%2f..%2fb",
                          "/a%", "/a%zz", "/a%00", "/a\\b", "/a%5c..%5cb"}) {
    EXPECT_EQ(DecodeUrlPath(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpStaticFilesTest, MissingRootServesNothing) {
  StaticFiles files("/nonexistent/sopsidebar/static");
  EXPECT_EQ(files.Get("/index.html").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sopsidebar
