#include "image/blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/random.h"
#include "image/digest.h"

namespace gantry::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEmptySha = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kAbcSha = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

Digest digest_of(std::string_view s) { return sha256_of(s); }

size_t count_files(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

// ---- Digest ----

TEST(BlobDigest, ParsesCanonicalSha256) {
  auto d = Digest::parse(kAbcSha);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->str(), kAbcSha);
  EXPECT_EQ(d->hex(), kAbcSha.substr(7));
}

TEST(BlobDigest, RejectsEverythingElse) {
  const std::string hex(kAbcSha.substr(7));
  for (std::string bad :
       {std::string(), std::string("sha256"), std::string("sha256:"), hex, "SHA256:" + hex, "sha512:" + hex + hex,
        "sha256:" + hex.substr(1), "sha256:" + hex + "0", "sha256:" + std::string(64, 'A'),
        "sha256:" + std::string(63, 'a') + "g", " sha256:" + hex, "sha256:" + hex + "\n", "sha256: " + hex.substr(1)}) {
    auto d = Digest::parse(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.error().kind, ErrorKind::kImageDigestInvalid) << bad;
  }
  auto d = Digest::parse("sha512:" + hex + hex);
  EXPECT_NE(d.error().message.find("only sha256"), std::string::npos) << d.error().message;
}

TEST(BlobDigest, HostileDigestIsTruncatedInTheMessage) {
  auto d = Digest::parse("sha256:" + std::string(100000, 'z'));
  ASSERT_FALSE(d.ok());
  EXPECT_LT(d.error().message.size(), 400u);
}

TEST(BlobDigest, Sha256KnownVectorsAndIncrementalEqualsOneShot) {
  EXPECT_EQ(digest_of("").str(), kEmptySha);
  EXPECT_EQ(digest_of("abc").str(), kAbcSha);
  std::string data = pattern(1 << 20, 7);
  Sha256 h;
  for (size_t i = 0; i < data.size(); i += 4099) h.update(std::string_view(data).substr(i, 4099));
  EXPECT_EQ(h.bytes_hashed(), data.size());
  EXPECT_EQ(h.digest(), digest_of(data));
  // digest() does not finish the hasher.
  h.update("x");
  EXPECT_EQ(h.digest(), digest_of(data + "x"));
}

TEST(BlobDigest, WireErrorsAreTheDistributionCodes) {
  EXPECT_EQ(wire_error(ErrorKind::kImageDigestInvalid, "").type, "DIGEST_INVALID");
  EXPECT_EQ(wire_error(ErrorKind::kImageDigestInvalid, "").http_status, 400);
  EXPECT_EQ(wire_error(ErrorKind::kImageBlobUnknown, "").type, "BLOB_UNKNOWN");
  EXPECT_EQ(wire_error(ErrorKind::kImageBlobUnknown, "").http_status, 404);
  EXPECT_EQ(wire_error(ErrorKind::kImageUploadUnknown, "").type, "BLOB_UPLOAD_UNKNOWN");
  EXPECT_EQ(wire_error(ErrorKind::kImageUploadUnknown, "").http_status, 404);
  EXPECT_EQ(wire_error(ErrorKind::kImageUploadOffset, "").type, "BLOB_UPLOAD_INVALID");
  EXPECT_EQ(wire_error(ErrorKind::kImageUploadOffset, "").http_status, 416);
  EXPECT_EQ(wire_error(ErrorKind::kImageUploadInvalid, "").http_status, 400);
  EXPECT_EQ(wire_error(ErrorKind::kImageRangeInvalid, "").http_status, 416);
  EXPECT_EQ(wire_error(ErrorKind::kImageSizeInvalid, "").type, "SIZE_INVALID");
  EXPECT_EQ(wire_error(ErrorKind::kImageLayerInvalid, "").http_status, 400);
}

// ---- BlobStore ----

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gantry-blob-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ / "blobs";
    reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void reopen(BlobStoreOptions options = {}) {
    store_.reset();
    auto s = BlobStore::open(root_, random_, options);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
  }
  std::string read_range(const Digest& d, uint64_t offset, std::optional<uint64_t> length) {
    auto r = store_->open_read(d, offset, length);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {};
    std::string out;
    uint8_t buf[7];  // small on purpose: many reads
    for (;;) {
      auto n = r->read(buf);
      EXPECT_TRUE(n.ok());
      if (!n.ok() || *n == 0) break;
      out.append(reinterpret_cast<char*>(buf), *n);
    }
    return out;
  }

  fs::path dir_;
  fs::path root_;
  SeededRandom random_{42};
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, PutStoresUnderShardedPathAndReadsBack) {
  std::string data = "hello, registry";
  Digest d = digest_of(data);
  auto put = store_->put(data, d);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(*put, data.size());
  auto path = root_ / "sha256" / std::string(d.hex().substr(0, 2)) / std::string(d.hex());
  EXPECT_EQ(store_->blob_path(d), path);
  EXPECT_EQ(slurp(path), data);
  EXPECT_TRUE(*store_->exists(d));
  EXPECT_EQ(*store_->size(d), data.size());
  auto all = store_->read_all(d, 1024);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, data);
  EXPECT_EQ(count_files(root_ / "tmp"), 0u);
}

TEST_F(BlobStoreTest, PutWithWrongDigestStoresNothing) {
  Digest other = digest_of("something else");
  auto put = store_->put("content", other);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kImageDigestInvalid);
  EXPECT_NE(put.error().message.find(digest_of("content").str()), std::string::npos) << put.error().message;
  EXPECT_NE(put.error().message.find(other.str()), std::string::npos);
  EXPECT_FALSE(*store_->exists(other));
  EXPECT_EQ(count_files(root_), 0u);
}

TEST_F(BlobStoreTest, PutIsIdempotentAndEmptyBlobWorks) {
  Digest d = digest_of("same");
  ASSERT_TRUE(store_->put("same", d).ok());
  ASSERT_TRUE(store_->put("same", d).ok());
  EXPECT_EQ(count_files(root_ / "sha256"), 1u);
  Digest empty = *Digest::parse(kEmptySha);
  ASSERT_TRUE(store_->put("", empty).ok());
  EXPECT_EQ(*store_->size(empty), 0u);
  EXPECT_EQ(read_range(empty, 0, std::nullopt), "");
}

TEST_F(BlobStoreTest, RangeReads) {
  std::string data = pattern(1000, 1);
  Digest d = digest_of(data);
  ASSERT_TRUE(store_->put(data, d).ok());
  EXPECT_EQ(read_range(d, 0, std::nullopt), data);
  EXPECT_EQ(read_range(d, 10, 20), data.substr(10, 20));
  EXPECT_EQ(read_range(d, 990, std::nullopt), data.substr(990));
  EXPECT_EQ(read_range(d, 1000, std::nullopt), "");
  EXPECT_EQ(read_range(d, 1000, 0), "");
  auto r = store_->open_read(d, 100, 50);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->blob_size(), 1000u);
  EXPECT_EQ(r->offset(), 100u);
  EXPECT_EQ(r->remaining(), 50u);
  EXPECT_GE(r->fd(), 0);

  for (auto [off, len] : std::vector<std::pair<uint64_t, std::optional<uint64_t>>>{
           {1001, std::nullopt}, {0, 1001}, {999, 2}, {UINT64_MAX, 1}, {1, UINT64_MAX}}) {
    auto bad = store_->open_read(d, off, len);
    ASSERT_FALSE(bad.ok()) << off;
    EXPECT_EQ(bad.error().kind, ErrorKind::kImageRangeInvalid);
    EXPECT_NE(bad.error().message.find(d.str()), std::string::npos);
  }
}

TEST_F(BlobStoreTest, UnknownBlob) {
  Digest d = digest_of("never stored");
  EXPECT_FALSE(*store_->exists(d));
  EXPECT_EQ(store_->size(d).error().kind, ErrorKind::kImageBlobUnknown);
  EXPECT_EQ(store_->open_read(d).error().kind, ErrorKind::kImageBlobUnknown);
  EXPECT_EQ(store_->read_all(d, 10).error().kind, ErrorKind::kImageBlobUnknown);
  auto rm = store_->remove(d);
  ASSERT_FALSE(rm.ok());
  EXPECT_EQ(rm.error().kind, ErrorKind::kImageBlobUnknown);
  EXPECT_NE(rm.error().message.find(d.str()), std::string::npos);
}

TEST_F(BlobStoreTest, RemoveKeepsOpenReadersWorking) {
  std::string data = pattern(5000, 2);
  Digest d = digest_of(data);
  ASSERT_TRUE(store_->put(data, d).ok());
  auto reader = store_->open_read(d);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store_->remove(d).ok());
  EXPECT_FALSE(*store_->exists(d));
  std::string out(5000, '\0');
  size_t got = 0;
  while (reader->remaining() > 0) {
    auto n = reader->read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()) + got, out.size() - got));
    ASSERT_TRUE(n.ok());
    got += *n;
  }
  EXPECT_EQ(out, data);
}

TEST_F(BlobStoreTest, ReadAllRefusesLargeBlobs) {
  std::string data(100, 'x');
  Digest d = digest_of(data);
  ASSERT_TRUE(store_->put(data, d).ok());
  auto r = store_->read_all(d, 99);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kImageSizeInvalid);
}

TEST_F(BlobStoreTest, ChunkedUploadCommits) {
  std::string data = pattern(300000, 3);
  Digest d = digest_of(data);
  auto id = store_->begin_upload();
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->size(), 36u);
  EXPECT_TRUE(fs::exists(root_ / "uploads" / *id));
  EXPECT_EQ(*store_->upload_size(*id), 0u);
  uint64_t off = 0;
  for (size_t chunk : {100000, 1, 99999, 100000}) {
    auto n = store_->append(*id, std::string_view(data).substr(off, chunk), off);
    ASSERT_TRUE(n.ok()) << n.error().message;
    off += chunk;
    EXPECT_EQ(*n, off);
  }
  EXPECT_EQ(*store_->upload_size(*id), data.size());
  EXPECT_FALSE(*store_->exists(d));  // nothing visible before commit
  auto c = store_->commit(*id, d);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, data.size());
  EXPECT_EQ(slurp(store_->blob_path(d)), data);
  EXPECT_FALSE(fs::exists(root_ / "uploads" / *id));
  EXPECT_EQ(store_->upload_size(*id).error().kind, ErrorKind::kImageUploadUnknown);
  EXPECT_EQ(store_->commit(*id, d).error().kind, ErrorKind::kImageUploadUnknown);
}

TEST_F(BlobStoreTest, UploadIdsComeFromTheInjectedRandom) {
  SeededRandom a(7), b(7);
  auto s1 = BlobStore::open(dir_ / "one", a);
  auto s2 = BlobStore::open(dir_ / "two", b);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(*(*s1)->begin_upload(), *(*s2)->begin_upload());
}

TEST_F(BlobStoreTest, AppendAtWrongOffsetNamesTheCurrentOffset) {
  auto id = *store_->begin_upload();
  ASSERT_TRUE(store_->append(id, "abcde", 0).ok());
  for (uint64_t off : {0, 4, 6, 100}) {
    auto bad = store_->append(id, "zz", off);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().kind, ErrorKind::kImageUploadOffset);
    EXPECT_NE(bad.error().message.find(id), std::string::npos) << bad.error().message;
    EXPECT_NE(bad.error().message.find("resume at offset 5"), std::string::npos) << bad.error().message;
  }
  EXPECT_EQ(*store_->upload_size(id), 5u);
  EXPECT_EQ(fs::file_size(root_ / "uploads" / id), 5u);
  ASSERT_TRUE(store_->append(id, "fgh", 5).ok());
  ASSERT_TRUE(store_->commit(id, digest_of("abcdefgh")).ok());
}

TEST_F(BlobStoreTest, CommitWithWrongDigestDiscardsTheUpload) {
  auto id = *store_->begin_upload();
  ASSERT_TRUE(store_->append(id, "abc", 0).ok());
  Digest wanted = digest_of("abd");
  auto c = store_->commit(id, wanted);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kImageDigestInvalid);
  EXPECT_EQ(c.error().message, "commit upload " + id + ": content digest " + std::string(kAbcSha) +
                                   " does not match the requested " + wanted.str() +
                                   " (3 bytes); the upload was discarded");
  EXPECT_FALSE(fs::exists(root_ / "uploads" / id));
  EXPECT_EQ(count_files(root_), 0u);
  EXPECT_EQ(store_->append(id, "x", 3).error().kind, ErrorKind::kImageUploadUnknown);
}

TEST_F(BlobStoreTest, CommittingContentThatIsAlreadyStoredSucceeds) {
  Digest d = digest_of("dup");
  ASSERT_TRUE(store_->put("dup", d).ok());
  auto before = fs::last_write_time(store_->blob_path(d));
  auto id = *store_->begin_upload();
  ASSERT_TRUE(store_->append(id, "dup", 0).ok());
  auto c = store_->commit(id, d);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, 3u);
  EXPECT_EQ(fs::last_write_time(store_->blob_path(d)), before);
  EXPECT_EQ(count_files(root_ / "uploads"), 0u);
}

TEST_F(BlobStoreTest, CancelDeletesTheUpload) {
  auto id = *store_->begin_upload();
  ASSERT_TRUE(store_->append(id, "partial", 0).ok());
  ASSERT_TRUE(store_->cancel(id).ok());
  EXPECT_FALSE(fs::exists(root_ / "uploads" / id));
  auto again = store_->cancel(id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kImageUploadUnknown);
  EXPECT_NE(again.error().message.find(id), std::string::npos);
  EXPECT_EQ(store_->upload_size(id).error().kind, ErrorKind::kImageUploadUnknown);
}

TEST_F(BlobStoreTest, ForeignUploadIdsNeverReachTheFilesystem) {
  // A file an attacker would love to append to.
  std::ofstream(dir_ / "victim") << "x";
  for (std::string bad : {std::string(), std::string("../victim"), std::string("../../victim"),
                          std::string("3F2504E0-4F89-41D3-9A0C-0305E82C3301"), std::string(36, '-'),
                          std::string("3f2504e0-4f89-41d3-9a0c-0305e82c330/")}) {
    auto a = store_->append(bad, "y", 1);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.error().kind, ErrorKind::kImageUploadUnknown);
    EXPECT_EQ(store_->cancel(bad).error().kind, ErrorKind::kImageUploadUnknown);
    EXPECT_EQ(store_->commit(bad, digest_of("x")).error().kind, ErrorKind::kImageUploadUnknown);
  }
  EXPECT_EQ(slurp(dir_ / "victim"), "x");
  // Well-formed but never issued.
  auto u = store_->upload_size("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().kind, ErrorKind::kImageUploadUnknown);
  EXPECT_NE(u.error().message.find("3f2504e0-4f89-41d3-9a0c-0305e82c3301"), std::string::npos);
}

TEST_F(BlobStoreTest, UploadResumesAfterRestart) {
  std::string data = pattern(3 << 20, 4);  // bigger than the rehash chunk
  Digest d = digest_of(data);
  auto id = *store_->begin_upload();
  ASSERT_TRUE(store_->append(id, std::string_view(data).substr(0, 2 << 20), 0).ok());
  reopen();  // a new process: no memory of the upload but its file
  auto size = store_->upload_size(id);
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_EQ(*size, 2u << 20);
  ASSERT_TRUE(store_->append(id, std::string_view(data).substr(2 << 20), 2 << 20).ok());
  reopen();
  auto c = store_->commit(id, d);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(slurp(store_->blob_path(d)), data);
}

TEST_F(BlobStoreTest, OpenCleansScratchButKeepsUploads) {
  auto id = *store_->begin_upload();
  std::ofstream(root_ / "tmp" / "leftover") << "half a put";
  reopen();
  EXPECT_FALSE(fs::exists(root_ / "tmp" / "leftover"));
  EXPECT_TRUE(store_->upload_size(id).ok());
}

TEST_F(BlobStoreTest, ManyUploadsBeyondTheOpenSessionCap) {
  BlobStoreOptions options;
  options.max_open_uploads = 2;
  reopen(options);
  constexpr int kUploads = 7;
  std::vector<std::string> ids;
  std::vector<std::string> contents;
  for (int i = 0; i < kUploads; ++i) {
    ids.push_back(*store_->begin_upload());
    contents.push_back(pattern(1000 + static_cast<size_t>(i), static_cast<uint32_t>(i)));
  }
  // Interleave so every session is evicted and reloaded (rehashed) several times.
  for (size_t half = 0; half < 2; ++half) {
    for (int i = 0; i < kUploads; ++i) {
      auto piece = std::string_view(contents[i]).substr(half * 500, half == 0 ? 500 : std::string::npos);
      auto n = store_->append(ids[i], piece, half * 500);
      ASSERT_TRUE(n.ok()) << n.error().message;
    }
  }
  for (int i = 0; i < kUploads; ++i) {
    auto c = store_->commit(ids[i], digest_of(contents[i]));
    ASSERT_TRUE(c.ok()) << c.error().message;
  }
  EXPECT_EQ(count_files(root_ / "sha256"), static_cast<size_t>(kUploads));
}

TEST_F(BlobStoreTest, SizeCap) {
  BlobStoreOptions options;
  options.max_blob_bytes = 10;
  reopen(options);
  auto put = store_->put("01234567890", digest_of("01234567890"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kImageSizeInvalid);
  auto id = *store_->begin_upload();
  ASSERT_TRUE(store_->append(id, "0123456789", 0).ok());
  auto over = store_->append(id, "x", 10);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().kind, ErrorKind::kImageSizeInvalid);
  EXPECT_EQ(*store_->upload_size(id), 10u);
  EXPECT_TRUE(store_->commit(id, digest_of("0123456789")).ok());
}

TEST_F(BlobStoreTest, StreamsALargeUploadInChunks) {
  // 64 MiB through 1 MiB chunks: the store holds a running hash, never the content.
  constexpr size_t kChunk = 1 << 20;
  std::string chunk = pattern(kChunk, 5);
  Sha256 expected;
  auto id = *store_->begin_upload();
  uint64_t off = 0;
  for (int i = 0; i < 64; ++i) {
    chunk[0] = static_cast<char>(i);
    expected.update(chunk);
    auto n = store_->append(id, chunk, off);
    ASSERT_TRUE(n.ok()) << n.error().message;
    off = *n;
  }
  auto c = store_->commit(id, expected.digest());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, 64u * kChunk);
}

TEST_F(BlobStoreTest, ConcurrentCommitsOfTheSameContentAllSucceed) {
  std::string data = pattern(200000, 6);
  Digest d = digest_of(data);
  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        auto id = store_->begin_upload();
        if (!id.ok()) return void(errors[t] = id.error().message);
        for (size_t off = 0; off < data.size(); off += 50000) {
          auto n = store_->append(*id, std::string_view(data).substr(off, 50000), off);
          if (!n.ok()) return void(errors[t] = n.error().message);
        }
        auto c = (t % 2 == 0) ? store_->commit(*id, d) : store_->put(data, d);
        if (t % 2 == 1) (void)store_->cancel(*id);
        if (!c.ok()) return void(errors[t] = c.error().message);
        ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(ok.load(), kThreads * 5);
  EXPECT_EQ(slurp(store_->blob_path(d)), data);
  EXPECT_EQ(count_files(root_ / "sha256"), 1u);
  EXPECT_EQ(count_files(root_ / "uploads"), 0u);
  EXPECT_EQ(count_files(root_ / "tmp"), 0u);
}

TEST_F(BlobStoreTest, ConcurrentUploadsWhileSessionsAreEvicted) {
  BlobStoreOptions options;
  options.max_open_uploads = 2;
  reopen(options);
  constexpr int kThreads = 6;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string data = pattern(40000 + static_cast<size_t>(t), static_cast<uint32_t>(t) + 100);
      auto id = store_->begin_upload();
      if (!id.ok()) return void(errors[t] = id.error().message);
      for (size_t off = 0; off < data.size(); off += 1000) {
        auto n = store_->append(*id, std::string_view(data).substr(off, 1000), off);
        if (!n.ok()) return void(errors[t] = n.error().message);
      }
      auto c = store_->commit(*id, digest_of(data));
      if (!c.ok()) return void(errors[t] = c.error().message);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(count_files(root_ / "sha256"), static_cast<size_t>(kThreads));
  EXPECT_EQ(count_files(root_ / "uploads"), 0u);
}

TEST_F(BlobStoreTest, RacingAppendsToOneUploadAreSerialised) {
  auto id = *store_->begin_upload();
  constexpr int kThreads = 6;
  std::atomic<int> won{0}, told_offset{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto n = store_->append(id, "0123456789", 0);
      if (n.ok()) {
        ++won;
      } else if (n.error().kind == ErrorKind::kImageUploadOffset) {
        ++told_offset;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(told_offset.load(), kThreads - 1);
  EXPECT_EQ(*store_->upload_size(id), 10u);
}

}  // namespace
}  // namespace gantry::image
