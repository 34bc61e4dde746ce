#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/ecr/images.h"
#include "services/ecr/manifest.h"

namespace gantry::ecr {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string image_manifest(std::string_view media_type_member) {
  std::string mt = media_type_member.empty() ? "" : "\"mediaType\":\"" + std::string(media_type_member) + "\",";
  return "{\"schemaVersion\":2," + mt + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" +
         kA + "\",\"size\":10},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" +
         kB + "\",\"size\":100}]}";
}

std::string index_manifest() {
  return "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(kDockerManifestList) +
         "\",\"manifests\":[{\"mediaType\":\"" + std::string(kDockerManifest) + "\",\"digest\":\"" + kA +
         "\",\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},{\"mediaType\":\"" +
         std::string(kDockerManifest) + "\",\"digest\":\"" + kB +
         "\",\"size\":7,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
}

TEST(Manifest, ParsesImageManifest) {
  auto m = parse_manifest(image_manifest(kOciManifest), "");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifest);
  EXPECT_FALSE(m->is_index());
  ASSERT_TRUE(m->config);
  EXPECT_EQ(m->config->digest.str(), kA);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].digest.str(), kB);
  EXPECT_EQ(m->size_bytes(), 110u);
}

TEST(Manifest, MediaTypeFromHeaderOrShape) {
  auto declared = parse_manifest(image_manifest(""), std::string(kDockerManifest) + "; charset=utf-8");
  ASSERT_TRUE(declared) << declared.error().message;
  EXPECT_EQ(declared->media_type, kDockerManifest);
  auto guessed = parse_manifest(image_manifest(""), "");
  ASSERT_TRUE(guessed);
  EXPECT_EQ(guessed->media_type, kOciManifest);
}

TEST(Manifest, DeclaredAndDocumentMustAgree) {
  auto m = parse_manifest(image_manifest(kOciManifest), kDockerManifest);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::kEcrInvalidParameter);
}

TEST(Manifest, ParsesIndexAndSelectsPlatform) {
  auto m = parse_manifest(index_manifest(), "");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->is_index());
  ASSERT_EQ(m->manifests.size(), 2u);
  EXPECT_EQ(m->size_bytes(), 12u);
  auto amd64 = select_platform(*m, "linux", "amd64");
  ASSERT_TRUE(amd64);
  EXPECT_EQ(amd64->digest.str(), kB);
  EXPECT_FALSE(select_platform(*m, "windows", "amd64"));
}

TEST(Manifest, RejectsBadDocuments) {
  for (const std::string& doc : std::vector<std::string>{std::string(""), std::string("[]"), std::string("{}"), std::string("{\"schemaVersion\":1}"),
                          std::string("not json"),
                          std::string("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}"),
                          std::string("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:xyz\",\"size\":1},\"layers\":[]}"),
                          "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + kA + "\",\"size\":-1},\"layers\":[]}",
                          "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + kA + "\",\"size\":1}}",
                          "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(kOciIndex) + "\"}"}) {
    auto m = parse_manifest(doc, "");
    ASSERT_FALSE(m) << doc;
    EXPECT_EQ(m.error().kind, ErrorKind::kEcrInvalidParameter);
  }
}

TEST(Manifest, MediaTypeSets) {
  EXPECT_TRUE(is_manifest_media_type(kOciIndex));
  EXPECT_TRUE(is_index_media_type(kDockerManifestList));
  EXPECT_FALSE(is_index_media_type(kOciManifest));
  EXPECT_FALSE(is_manifest_media_type("application/json"));
}

TEST(Accept, MatchesListsAndWildcards) {
  EXPECT_TRUE(accepts("", kOciIndex));
  EXPECT_TRUE(accepts("*/*", kOciIndex));
  EXPECT_TRUE(accepts(std::string(kDockerManifest) + ", " + std::string(kOciIndex) + ";q=0.5", kOciIndex));
  EXPECT_FALSE(accepts(kDockerManifest, kDockerManifestList));
}

TEST(Names, RepositoryNamesFollowEcrRules) {
  for (const char* ok : {"ab", "team/app", "a.b-c_d/e", "a1/b2/c3"}) EXPECT_TRUE(valid_repository_name(ok)) << ok;
  for (const char* bad : {"a", "", "Team", "a//b", "/ab", "ab/", "a..b", "-ab", "ab-", "a b", "a:b"})
    EXPECT_FALSE(valid_repository_name(bad)) << bad;
  EXPECT_FALSE(valid_repository_name(std::string(257, 'a')));
}

TEST(Names, ImageTags) {
  for (const char* ok : {"latest", "v1.2.3", "A_b-c", "_x"}) EXPECT_TRUE(valid_image_tag(ok)) << ok;
  for (const char* bad : {"", ".x", "-x", "a:b", "a/b", "sha256:abc"}) EXPECT_FALSE(valid_image_tag(bad)) << bad;
  EXPECT_TRUE(valid_image_tag(std::string(300, 'a')));
  EXPECT_FALSE(valid_image_tag(std::string(301, 'a')));
}

}  // namespace
}  // namespace gantry::ecr
