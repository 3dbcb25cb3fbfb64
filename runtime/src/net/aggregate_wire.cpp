#include "net/aggregate_wire.hpp"

#include <sluice/error.hpp>

#include <cstring>
#include <string>

namespace sluice::net {

namespace {

constexpr std::uint32_t kNoGroup = 0xffffffffu;
constexpr std::size_t kMaxValueFields = 64;
// A frame's body is at most kMaxFrameBody; leave room for the field headers.
constexpr std::size_t kPartialsBudget = kMaxFrameBody - 1024;

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_decimal(std::string& out, const Decimal& d) {
  auto bits = static_cast<unsigned __int128>(d.units);
  put(out, static_cast<std::uint64_t>(bits >> 64), 8);
  put(out, static_cast<std::uint64_t>(bits), 8);
  put(out, d.scale, 4);
}

// Reads big-endian values off a field; every read checks the length.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  std::uint64_t get(int bytes) {
    need(static_cast<std::size_t>(bytes));
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(s_[pos_++]);
    return v;
  }
  std::string_view take(std::size_t n) {
    need(n);
    std::string_view v = s_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  Decimal decimal() {
    unsigned __int128 high = get(8), low = get(8);
    Decimal d;
    d.units = static_cast<__int128>(high << 64 | low);
    d.scale = static_cast<std::uint32_t>(get(4));
    if (d.scale > 38) throw ProtocolError(ErrorCode::bad_request, "a partial aggregate has a scale past 38 digits");
    return d;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  void need(std::size_t n) const {
    if (s_.size() - pos_ < n) throw ProtocolError(ErrorCode::bad_request, "a partial aggregate is cut short");
  }
  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string encode_group(std::string_view key, const AggregateGroup& g) {
  std::string out;
  put(out, key.size(), 2);
  out.append(key);
  put(out, g.count, 8);
  for (const AggregateCell& c : g.cells) {
    put(out, c.numbers, 8);
    put_decimal(out, c.sum);
    put(out, (c.min ? 1u : 0u) | (c.max ? 2u : 0u), 1);
    if (c.min) put_decimal(out, *c.min);
    if (c.max) put_decimal(out, *c.max);
  }
  return out;
}

}  // namespace

void encode_aggregate_spec(Message& request, const AggregateSpec& spec) {
  std::string v(1, spec.delimiter);
  put(v, spec.group_field ? *spec.group_field : kNoGroup, 4);
  for (std::uint32_t f : spec.value_fields) put(v, f, 4);
  request.add(Tag::aggregate, v);
}

std::optional<AggregateSpec> decode_aggregate_spec(const Message& request) {
  std::optional<std::string_view> v = request.optional(Tag::aggregate);
  if (!v) return std::nullopt;
  if (v->size() < 5 || (v->size() - 5) % 4 != 0 || (v->size() - 5) / 4 > kMaxValueFields)
    throw ProtocolError(ErrorCode::bad_parameter, "the aggregate field is malformed");
  Reader r(v->substr(1));
  AggregateSpec spec;
  spec.delimiter = (*v)[0];
  if (spec.delimiter == '\n') throw ProtocolError(ErrorCode::bad_parameter, "the aggregate delimiter cannot be a newline");
  std::uint32_t group = static_cast<std::uint32_t>(r.get(4));
  if (group != kNoGroup) spec.group_field = group;
  while (!r.done()) spec.value_fields.push_back(static_cast<std::uint32_t>(r.get(4)));
  return spec;
}

std::vector<Message> encode_partials(const Aggregator& partials) {
  std::vector<Message> frames;
  std::size_t used = kPartialsBudget;
  for (const auto& [key, group] : partials.groups()) {
    std::string g = encode_group(key, group);
    if (used + g.size() + 3 > kPartialsBudget) {
      frames.emplace_back(FrameType::partials);
      used = 0;
    }
    frames.back().add(Tag::group, g);
    used += g.size() + 3;
  }
  return frames;
}

void merge_partials(const Message& frame, Aggregator& into) {
  for (std::string_view g : frame.all(Tag::group)) {
    Reader r(g);
    std::string_view key = r.take(static_cast<std::size_t>(r.get(2)));
    AggregateGroup group;
    group.count = r.get(8);
    for (std::size_t i = 0; i < into.columns(); ++i) {
      AggregateCell c;
      c.numbers = r.get(8);
      c.sum = r.decimal();
      std::uint64_t flags = r.get(1);
      if (flags & 1) c.min = r.decimal();
      if (flags & 2) c.max = r.decimal();
      group.cells.push_back(c);
    }
    if (!r.done()) throw ProtocolError(ErrorCode::bad_request, "a partial aggregate has more columns than asked for");
    try {
      into.merge(key, group);
    } catch (const UsageError& e) {
      throw ProtocolError(ErrorCode::bad_request, std::string("merging the server's aggregates: ") + e.what());
    }
  }
}

}  // namespace sluice::net
