#include "host/auth/credential_store.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "common/unique_fd.h"

namespace wick::auth {

namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// AWS: an access key id is 16 to 128 word characters.
bool validKeyId(std::string_view id) {
  if (id.size() < 16 || id.size() > 128) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '_') return false;
  return true;
}

bool validSecret(std::string_view secret) {
  if (secret.empty() || secret.size() > 1024) return false;
  for (unsigned char c : secret)
    if (c <= ' ' || c >= 0x7f) return false;
  return true;
}

// One profile as it is read, before its keys are checked.
struct Section {
  std::string name;
  size_t line = 0;
  std::map<std::string, std::string> values;
};

Result<std::vector<Section>> parseSections(std::string_view text, std::string_view origin) {
  std::vector<Section> sections;
  size_t number = 0;
  bool after_key = false;
  auto failure = [&](const std::string& what) {
    return Error(std::string(origin) + " line " + std::to_string(number) + ": " + what, EINVAL);
  };
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    // An indented line continues the key above (botocore's nested values, as
    // "s3 =\n  addressing_style = path"): none of them is a credential.
    if ((raw.front() == ' ' || raw.front() == '\t') && after_key) continue;
    if (line.front() == '[') {
      if (line.back() != ']') return failure("a section header must end with ']'");
      std::string name(trim(line.substr(1, line.size() - 2)));
      if (name.empty()) return failure("empty profile name");
      for (const auto& section : sections)
        if (section.name == name)
          return failure("profile [" + name + "] appears twice (first on line " +
                         std::to_string(section.line) + ")");
      sections.push_back({std::move(name), number, {}});
      after_key = false;
      continue;
    }
    const size_t equals = line.find_first_of("=:");
    if (equals == std::string_view::npos) return failure("expected '[profile]' or 'key = value'");
    if (sections.empty()) return failure("a key before any [profile]");
    std::string key = lower(trim(line.substr(0, equals)));
    if (key.empty()) return failure("a value without a key");
    if (!sections.back().values.emplace(key, std::string(trim(line.substr(equals + 1)))).second)
      return failure("'" + key + "' appears twice in [" + sections.back().name + "]");
    after_key = true;
  }
  return sections;
}

Result<bool> parseAdmin(const Section& section, std::string_view origin) {
  auto it = section.values.find("wick_admin");
  if (it == section.values.end()) return false;
  const std::string value = lower(it->second);
  if (value == "true") return true;
  if (value == "false") return false;
  return Error(std::string(origin) + ": [" + section.name +
                   "] wick_admin must be true or false, not '" + it->second + "'",
               EINVAL);
}

void randomFill(unsigned char* bytes, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::getrandom(bytes + got, size - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("getrandom");
      std::abort();  // no randomness: no key may be made
    }
    got += static_cast<size_t>(n);
  }
}

// `length` characters drawn uniformly from `alphabet` (whose size divides 256
// or is rejected above the last multiple, so no character is favoured).
std::string randomString(std::string_view alphabet, size_t length) {
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  while (out.size() < length) {
    std::array<unsigned char, 64> bytes;
    randomFill(bytes.data(), bytes.size());
    for (unsigned char b : bytes) {
      if (b >= limit) continue;
      out += alphabet[b % alphabet.size()];
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace

CredentialStore::CredentialStore(std::vector<Principal> principals) {
  for (auto& principal : principals)
    add(std::move(principal));
}

void CredentialStore::add(Principal principal) {
  auto it = by_key_id_.find(principal.access_key_id);
  if (it != by_key_id_.end()) {
    principals_[it->second] = std::move(principal);
    return;
  }
  by_key_id_.emplace(principal.access_key_id, principals_.size());
  principals_.push_back(std::move(principal));
}

std::optional<Principal> CredentialStore::find(std::string_view access_key_id) const {
  auto it = by_key_id_.find(access_key_id);
  if (it == by_key_id_.end()) return std::nullopt;
  return principals_[it->second];
}

Result<CredentialStore> CredentialStore::parse(std::string_view text, std::string_view origin) {
  auto sections = parseSections(text, origin);
  if (!sections) return std::move(sections).error();
  CredentialStore store;
  for (const Section& section : *sections) {
    auto id = section.values.find("aws_access_key_id");
    auto secret = section.values.find("aws_secret_access_key");
    const bool has_id = id != section.values.end();
    const bool has_secret = secret != section.values.end();
    // A profile of settings only (a region) is no principal.
    if (!has_id && !has_secret) continue;
    const std::string where = std::string(origin) + ": [" + section.name + "]";
    if (!has_id)
      return Error(where + " has aws_secret_access_key but no aws_access_key_id", EINVAL);
    if (!has_secret)
      return Error(where + " has aws_access_key_id but no aws_secret_access_key", EINVAL);
    if (!validKeyId(id->second))
      return Error(where + " aws_access_key_id must be 16 to 128 letters, digits or '_'", EINVAL);
    if (!validSecret(secret->second))
      return Error(where + " aws_secret_access_key must be printable ASCII without spaces", EINVAL);
    if (auto other = store.find(id->second))
      return Error(where + " has the same aws_access_key_id as [" + other->name + "]", EINVAL);
    auto admin = parseAdmin(section, origin);
    if (!admin) return std::move(admin).error();
    Principal principal{section.name, id->second, secret->second, {}, *admin};
    if (auto token = section.values.find("aws_session_token"); token != section.values.end())
      principal.session_token = token->second;
    store.add(std::move(principal));
  }
  return store;
}

Result<CredentialStore> CredentialStore::load(const std::string& path, uid_t owner) {
  // O_NOFOLLOW and fstat on what was opened: the file checked is the file read.
  auto fd = openFile(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!fd) return std::move(fd).error().context("credentials file");
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Error::fromErrno("stat credentials file " + path);
  if (!S_ISREG(st.st_mode))
    return Error("credentials file " + path + " is not a regular file", EINVAL);
  if (st.st_uid != owner)
    return Error("credentials file " + path + " is owned by uid " + std::to_string(st.st_uid) +
                     ", not " + (owner == 0 ? std::string("root") : std::to_string(owner)) +
                     ": wickd refuses it (chown " + std::to_string(owner) + " " + path + ")",
                 EPERM);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error("credentials file " + path + " has mode " + mode +
                     ": group or others may read or change it, so wickd refuses it (chmod 600 " +
                     path + ")",
                 EPERM);
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes)
    return Error("credentials file " + path + " is larger than 1 MiB", EFBIG);
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd->get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::fromErrno("read credentials file " + path);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  auto store = parse(text, "credentials file " + path);
  if (!store) return store;
  if (store->size() == 0)
    return Error("credentials file " + path +
                     " holds no credentials (a [profile] with aws_access_key_id and "
                     "aws_secret_access_key)",
                 EINVAL);
  return store;
}

Principal newRandomPrincipal(std::string name, bool admin) {
  Principal principal;
  principal.name = std::move(name);
  principal.access_key_id = "AKIA" + randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
  principal.secret_access_key =
      randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  principal.admin = admin;
  return principal;
}

std::string toIniSection(const Principal& principal) {
  std::string text = "[" + principal.name + "]\n";
  text += "aws_access_key_id = " + principal.access_key_id + "\n";
  text += "aws_secret_access_key = " + principal.secret_access_key + "\n";
  if (!principal.session_token.empty())
    text += "aws_session_token = " + principal.session_token + "\n";
  if (principal.admin) text += "wick_admin = true\n";
  return text;
}

Result<Principal> CredentialStore::createWithAdmin(const std::string& path,
                                                   const std::string& profile) {
  Principal admin = newRandomPrincipal(profile, true);
  const std::string text =
      "# wickd's API keys (AWS shared credentials format). Made by wickd at first start;\n"
      "# add a [profile] per principal. wick_admin = true may call every route, the\n"
      "# others may only invoke. Must stay owned by root, mode 0600.\n" +
      toIniSection(admin);
  auto fd = openFile(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  if (!fd) return std::move(fd).error().context("create credentials file");
  // The umask cannot widen 0600, but an inherited ACL default could: be exact.
  if (::fchmod(fd->get(), 0600) != 0) return Error::fromErrno("chmod 600 " + path);
  auto written = writeAll(fd->get(), text);
  if (written && ::fsync(fd->get()) != 0) written = Error::fromErrno("fsync");
  if (!written) {
    ::unlink(path.c_str());
    return std::move(written).error().context("write credentials file " + path);
  }
  return admin;
}

}  // namespace wick::auth
