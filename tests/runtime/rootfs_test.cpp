#include "runtime/rootfs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <thread>

#include "core/random.h"
#include "runtime/fake_os.h"

namespace gantry::runtime {
namespace {

namespace fs = std::filesystem;
using image::Digest;
using image::sha256_of;

// An OCI image layout held in a FakeOs: blobs are stored under their real sha256.
class FakeLayout {
 public:
  FakeLayout(FakeOs& os, std::string dir) : os_(os), dir_(std::move(dir)) {}

  Digest blob(const std::string& content) {
    Digest d = sha256_of(content);
    os_.add_file(fmt::format("{}/blobs/sha256/{}", dir_, d.hex()), content);
    return d;
  }
  // A one-platform image: returns its manifest digest. Layer blobs are fake bytes; their diffIDs are
  // whatever the config says (the unpacker checks them, and tests fake the unpacker).
  Digest image(const std::vector<std::pair<std::string, std::string>>& layers_and_diff_ids,
               const std::string& config_extra = R"("config":{"Cmd":["sh"],"Env":["PATH=/bin"]})") {
    std::string diff_ids;
    std::string layers;
    for (const auto& [content, diff_id] : layers_and_diff_ids) {
      Digest d = blob(content);
      if (!diff_ids.empty()) diff_ids += ',';
      diff_ids += fmt::format("\"{}\"", diff_id);
      if (!layers.empty()) layers += ',';
      layers += fmt::format(R"({{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}})",
                            d.str(), content.size());
    }
    Digest config =
        blob(fmt::format(R"({{"architecture":"amd64","os":"linux",{},"rootfs":{{"type":"layers","diff_ids":[{}]}}}})",
                         config_extra, diff_ids));
    return blob(
        fmt::format(R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                    R"("config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":1}},)"
                    R"("layers":[{}]}})",
                    config.str(), layers));
  }
  void index(const std::vector<std::pair<Digest, std::string>>& manifests_and_refs) {
    std::string entries;
    for (const auto& [d, ref] : manifests_and_refs) {
      if (!entries.empty()) entries += ',';
      entries += fmt::format(R"({{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,)"
                             R"("annotations":{{"org.opencontainers.image.ref.name":"{}"}}}})",
                             d.str(), ref);
    }
    os_.add_file(dir_ + "/index.json", fmt::format(R"({{"schemaVersion":2,"manifests":[{}]}})", entries));
  }

 private:
  FakeOs& os_;
  std::string dir_;
};

const std::string kDiffA = "sha256:" + std::string(64, 'a');
const std::string kDiffB = "sha256:" + std::string(64, 'b');

TEST(ResolveImage, FromAnOciLayout) {
  FakeOs os;
  FakeLayout layout(os, "/img");
  Digest m = layout.image({{"layer-one", kDiffA}, {"layer-two", kDiffB}});
  layout.index({{m, "latest"}});
  auto img = resolve_oci_layout(os, "/img");
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->manifest, m);
  ASSERT_EQ(img->layers.size(), 2u);
  EXPECT_EQ(img->layers[0].blob, sha256_of(std::string("layer-one")));
  EXPECT_EQ(img->layers[0].diff_id.str(), kDiffA);
  EXPECT_EQ(img->layers[1].diff_id.str(), kDiffB);
  EXPECT_EQ(img->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(img->config.cmd, std::optional<std::vector<std::string>>(std::vector<std::string>{"sh"}));
  EXPECT_TRUE(resolve_oci_layout(os, "/img", "latest").ok());
}

TEST(ResolveImage, RefSelectsAndAmbiguityIsAnError) {
  FakeOs os;
  FakeLayout layout(os, "/img");
  Digest a = layout.image({{"a", kDiffA}});
  Digest b = layout.image({{"b", kDiffB}});
  layout.index({{a, "v1"}, {b, "v2"}});
  auto v2 = resolve_oci_layout(os, "/img", "v2");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->manifest, b);
  auto ambiguous = resolve_oci_layout(os, "/img");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().kind, ErrorKind::kRuntimeImageInvalid);
  auto missing = resolve_oci_layout(os, "/img", "v3");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no image named \"v3\""), std::string::npos);
  EXPECT_FALSE(resolve_oci_layout(os, "/nowhere").ok());
}

TEST(ResolveImage, FollowsAnIndexToLinuxAmd64) {
  FakeOs os;
  FakeLayout layout(os, "/img");
  Digest amd = layout.image({{"amd", kDiffA}});
  Digest arm = layout.image({{"arm", kDiffB}});
  Digest idx = layout.blob(fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
      R"({{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"architecture":"arm64","os":"linux"}}}},)"
      R"({{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}}]}})",
      arm.str(), amd.str()));
  auto img = resolve_image(os, oci_layout_blobs("/img"), idx);
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->manifest, amd);
  auto s390 = resolve_image(os, oci_layout_blobs("/img"), idx, "s390x");
  ASSERT_FALSE(s390.ok());
  EXPECT_NE(s390.error().message.find("no linux/s390x image"), std::string::npos);
}

TEST(ResolveImage, RejectsTamperedBlobsAndMismatchedDiffIds) {
  FakeOs os;
  FakeLayout layout(os, "/img");
  Digest m = layout.image({{"x", kDiffA}});
  os.add_file(fmt::format("/img/blobs/sha256/{}", m.hex()), "{\"tampered\":true}");
  auto tampered = resolve_image(os, oci_layout_blobs("/img"), m);
  ASSERT_FALSE(tampered.ok());
  EXPECT_NE(tampered.error().message.find("does not hash to its digest"), std::string::npos);

  Digest two = layout.image({{"y", kDiffA}}, R"("config":{},"extra":1)");
  // Rewrite the config to list two diff_ids for one layer.
  Digest config = layout.blob(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                              kDiffA + R"(",")" + kDiffB + R"("]}})");
  Digest manifest = layout.blob(fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"digest":"{}","size":1}},)"
      R"("layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":1}}]}})",
      config.str(), sha256_of(std::string("y")).str()));
  auto mismatch = resolve_image(os, oci_layout_blobs("/img"), manifest);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("1 layers but its config lists 2 diff_ids"), std::string::npos);
  EXPECT_TRUE(resolve_image(os, oci_layout_blobs("/img"), two).ok());
}

struct FakeUnpacker {
  explicit FakeUnpacker(FakeOs& fake_os) : os(fake_os) {}
  FakeOs& os;
  std::atomic<int> calls{0};
  std::vector<std::pair<fs::path, fs::path>> seen;
  std::optional<image::UnpackOptions> last_options;
  std::mutex mu;
  bool fail = false;
  bool appear_anyway = false;
  LayerCache::Unpacker fn() {
    return [this](const fs::path& file, const fs::path& target,
                  const image::UnpackOptions& o) -> Result<image::UnpackResult> {
      ++calls;
      {
        std::lock_guard lock(mu);
        seen.emplace_back(file, target);
        last_options = o;
      }
      if (fail) {
        if (appear_anyway) os.add_dir(target.string());
        return make_error(ErrorKind::kImageLayerInvalid, "entry ../x escapes");
      }
      os.add_dir(target.string());
      return image::UnpackResult{*o.expected_diff_id, 10, 5, 1};
    };
  }
};

TEST(LayerCache, UnpacksEachLayerOnceTopFirst) {
  FakeOs os;
  FakeLayout layout(os, "/img");
  layout.index({{layout.image({{"one", kDiffA}, {"two", kDiffB}}), "latest"}});
  auto img = resolve_oci_layout(os, "/img");
  ASSERT_TRUE(img.ok());
  FakeUnpacker unpacker(os);
  LayerCache cache(os, "/data/layers", unpacker.fn());
  auto dirs = cache.ensure_all(*img, oci_layout_blobs("/img"));
  ASSERT_TRUE(dirs.ok()) << dirs.error().message;
  EXPECT_EQ(*dirs,
            (std::vector<fs::path>{"/data/layers/" + std::string(64, 'b'), "/data/layers/" + std::string(64, 'a')}));
  EXPECT_EQ(unpacker.calls, 2);
  EXPECT_EQ(unpacker.seen[0].first, fs::path(fmt::format("/img/blobs/sha256/{}", sha256_of(std::string("two")).hex())));
  ASSERT_TRUE(unpacker.last_options.has_value());
  EXPECT_EQ(unpacker.last_options->compression, image::LayerCompression::kGzip);
  EXPECT_EQ(unpacker.last_options->expected_diff_id->str(), kDiffA);
  ASSERT_TRUE(cache.ensure_all(*img, oci_layout_blobs("/img")).ok());
  EXPECT_EQ(unpacker.calls, 2) << "cached layers are not unpacked again";
}

TEST(LayerCache, ConcurrentEnsureOfOneLayerUnpacksOnce) {
  FakeOs os;
  FakeUnpacker unpacker(os);
  LayerCache cache(os, "/data/layers", unpacker.fn());
  ImageLayer layer{sha256_of(std::string("l")), *Digest::parse(kDiffA), ""};
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (cache.ensure(layer, oci_layout_blobs("/img")).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(unpacker.calls, 1);
  EXPECT_EQ(unpacker.last_options->compression, image::LayerCompression::kDetect) << "no media type: sniff";
}

TEST(LayerCache, UnpackErrorsNameTheLayerUnlessAnotherProcessWon) {
  FakeOs os;
  FakeUnpacker unpacker(os);
  unpacker.fail = true;
  LayerCache cache(os, "/data/layers", unpacker.fn());
  ImageLayer layer{sha256_of(std::string("l")), *Digest::parse(kDiffA), "application/vnd.oci.image.layer.v1.tar"};
  auto failed = cache.ensure(layer, oci_layout_blobs("/img"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kImageLayerInvalid);
  EXPECT_NE(failed.error().message.find(layer.blob.str()), std::string::npos);
  EXPECT_NE(failed.error().message.find("entry ../x escapes"), std::string::npos);
  unpacker.appear_anyway = true;
  EXPECT_TRUE(cache.ensure(layer, oci_layout_blobs("/img")).ok());
  ImageLayer bad_type{layer.blob, layer.diff_id, "application/x-zip"};
  auto t = LayerCache(os, "/other", unpacker.fn()).ensure(bad_type, oci_layout_blobs("/img"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::kRuntimeImageInvalid);
}

TEST(PlanRootfs, OverlayOptionsTopFirst) {
  auto p = plan_rootfs({"/l/top", "/l/mid", "/l/base"}, "/data/tasks/t1/app");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->options,
            "lowerdir=/l/top:/l/mid:/l/base,upperdir=/data/tasks/t1/app/upper,workdir=/data/tasks/t1/app/work");
  EXPECT_EQ(p->target, "/data/tasks/t1/app/rootfs");
  EXPECT_EQ(p->lower_dirs.size(), 3u);
}

TEST(PlanRootfs, Rejects) {
  EXPECT_FALSE(plan_rootfs({}, "/c").ok());
  EXPECT_FALSE(plan_rootfs({"/l/a:b"}, "/c").ok());
  EXPECT_FALSE(plan_rootfs({"/l/a"}, "/c,x").ok());
  std::vector<fs::path> many(100, fs::path("/data/layers/" + std::string(64, 'a')));
  auto too_long = plan_rootfs(many, "/c");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("4095"), std::string::npos);
}

TEST(MountRootfs, MountsAndCleansUp) {
  FakeOs os;
  auto p = plan_rootfs({"/l/a"}, "/data/tasks/t1/app");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(mount_rootfs(os, *p).ok());
  auto mounts = os.mounts();
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].source, "overlay");
  EXPECT_EQ(mounts[0].fstype, "overlay");
  EXPECT_EQ(mounts[0].target, "/data/tasks/t1/app/rootfs");
  EXPECT_EQ(mounts[0].data, p->options);
  EXPECT_TRUE(os.has_dir("/data/tasks/t1/app/upper"));
  ASSERT_TRUE(unmount_rootfs(os, *p).ok());
  EXPECT_TRUE(os.mounts().empty());
  EXPECT_FALSE(os.has_dir("/data/tasks/t1/app/upper"));
  EXPECT_FALSE(os.has_dir("/data/tasks/t1/app/work"));
  EXPECT_FALSE(os.has_dir("/data/tasks/t1/app/rootfs"));
  EXPECT_TRUE(unmount_rootfs(os, *p).ok()) << "repeatable";
}

TEST(MountRootfs, MountFailureIsReported) {
  FakeOs os;
  auto p = plan_rootfs({"/l/a"}, "/c");
  ASSERT_TRUE(p.ok());
  os.fail_next("mount", "/c/rootfs", EPERM);
  auto st = mount_rootfs(os, *p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kRuntimeSystem);
  EXPECT_NE(st.error().message.find("Operation not permitted"), std::string::npos);
}

TEST(BlobPaths, LayoutAndStore) {
  Digest d = sha256_of(std::string("x"));
  EXPECT_EQ(oci_layout_blobs("/img")(d), fs::path("/img/blobs/sha256/" + std::string(d.hex())));
  char tmpl[] = "/tmp/gantry-rootfs-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  SeededRandom random(7);
  {
    auto store = image::BlobStore::open(tmpl, random);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->put(std::string_view("x"), d).ok());
    auto path = blob_store_blobs(**store)(d);
    EXPECT_EQ(path, (*store)->blob_path(d));
    PosixOs os;
    EXPECT_EQ(os.read_file(path).ok() ? *os.read_file(path) : "", "x");
  }
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace gantry::runtime
