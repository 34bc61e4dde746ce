#include "lambda/local_ca.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace gantry::sandbox {

namespace fs = std::filesystem;

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

Error ssl_error(std::string_view what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return make_error(ErrorKind::kRuntimeSystem, fmt::format("local CA: {}: {}", what, buf));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) return ssl_error("write key");
  return bio_text(bio.get());
}

Result<std::string> cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return ssl_error("write certificate");
  return bio_text(bio.get());
}

Result<KeyPtr> new_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return ssl_error("generate key");
  return key;
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by `issuer_key` (itself when `issuer` is null).
Result<CertPtr> make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, long days,
                          const std::vector<std::pair<int, std::string>>& extensions) {
  CertPtr cert(X509_new());
  if (!cert) return ssl_error("new certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return ssl_error("serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Gantry"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  for (const auto& [nid, value] : extensions)
    if (!add_extension(cert.get(), issuer ? issuer : cert.get(), nid, value)) return ssl_error("extension " + value);
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return ssl_error("sign");
  return cert;
}

Result<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kRuntimeSystem, "local CA: cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status write_private(const fs::path& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return make_error(ErrorKind::kRuntimeSystem, "local CA: cannot write " + path.string());
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) return make_error(ErrorKind::kRuntimeSystem, "local CA: cannot write " + path.string());
  return {};
}

}  // namespace

struct LocalCa::Keys {
  KeyPtr key;
  CertPtr cert;
};

LocalCa::~LocalCa() = default;

Result<std::unique_ptr<LocalCa>> LocalCa::load_or_create(const fs::path& dir) {
  std::unique_ptr<LocalCa> ca(new LocalCa());
  ca->keys_ = std::make_unique<Keys>();
  std::error_code ec;
  fs::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  const fs::path key_file = dir / "ca.key", cert_file = dir / "ca.pem";
  if (fs::exists(key_file) && fs::exists(cert_file)) {
    GANTRY_ASSIGN_OR_RETURN(auto key_text, read_text(key_file));
    GANTRY_ASSIGN_OR_RETURN(ca->ca_pem_, read_text(cert_file));
    BioPtr kb(BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
    ca->keys_->key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    BioPtr cb(BIO_new_mem_buf(ca->ca_pem_.data(), static_cast<int>(ca->ca_pem_.size())));
    ca->keys_->cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (!ca->keys_->key || !ca->keys_->cert) return ssl_error("read " + dir.string());
    return ca;
  }
  GANTRY_ASSIGN_OR_RETURN(ca->keys_->key, new_key());
  GANTRY_ASSIGN_OR_RETURN(ca->keys_->cert,
                          make_cert(ca->keys_->key.get(), "Gantry local CA", nullptr, ca->keys_->key.get(), 3650,
                                    {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                     {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                     {NID_subject_key_identifier, "hash"}}));
  GANTRY_ASSIGN_OR_RETURN(auto key_text, key_pem(ca->keys_->key.get()));
  GANTRY_ASSIGN_OR_RETURN(ca->ca_pem_, cert_pem(ca->keys_->cert.get()));
  GANTRY_RETURN_IF_ERROR(write_private(key_file, key_text, 0600));
  GANTRY_RETURN_IF_ERROR(write_private(cert_file, ca->ca_pem_, 0644));
  return ca;
}

Result<ServerCertificate> LocalCa::issue(const std::string& region) {
  std::lock_guard lock(mu_);
  GANTRY_ASSIGN_OR_RETURN(auto key, new_key());
  std::string san = fmt::format("DNS:*.amazonaws.com,DNS:*.{0}.amazonaws.com,DNS:*.ecr.{0}.amazonaws.com", region);
  GANTRY_ASSIGN_OR_RETURN(auto cert, make_cert(key.get(), "*.amazonaws.com", keys_->cert.get(), keys_->key.get(), 365,
                                               {{NID_basic_constraints, "critical,CA:FALSE"},
                                                {NID_key_usage, "critical,digitalSignature"},
                                                {NID_ext_key_usage, "serverAuth"},
                                                {NID_subject_alt_name, san},
                                                {NID_authority_key_identifier, "keyid:always"}}));
  ServerCertificate out;
  GANTRY_ASSIGN_OR_RETURN(out.cert_pem, cert_pem(cert.get()));
  out.cert_pem += ca_pem_;
  GANTRY_ASSIGN_OR_RETURN(out.key_pem, key_pem(key.get()));
  return out;
}

std::vector<std::string> aws_host_names(const std::string& region) {
  std::vector<std::string> names{"iam.amazonaws.com", "sts.amazonaws.com"};
  for (const char* service : {"ecs", "api.ecr", "ecr", "lambda", "events", "scheduler", "logs", "sts", "ec2", "iam"})
    names.push_back(fmt::format("{}.{}.amazonaws.com", service, region));
  return names;
}

}  // namespace gantry::sandbox
