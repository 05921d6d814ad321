// seatcore.hpp: a small C++17 RAII wrapper over seatcore.h.
//
// Every C object lives in a std::unique_ptr with its _free function as deleter; failures
// become seatcore::Error exceptions carrying the result code, the message and the seats
// concerned (the taken seats for "seats unavailable", the seats the hold lacks for "seats
// not in hold"). Results are copied from the C structs' fields into plain C++ values.
// A seatcore::Client may be shared by many threads, like the seatcore_client it wraps.
// A configuration that cannot work (an option out of range, a malformed URL, an unreadable
// certificate) throws when the Client is made, with the code SEATCORE_CONFIG.
#ifndef SEATCORE_HPP
#define SEATCORE_HPP

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "seatcore.h"

namespace seatcore {

// The type of object a _free function frees.
template <typename F>
struct FreedBy;
template <typename T>
struct FreedBy<void (*)(T *)> {
    using type = T;
};

// Owns a C object and frees it with Free, its _free function.
template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T *p) const noexcept {
        Free(p);
    }
};
template <auto Free>
using Owned = std::unique_ptr<typename FreedBy<decltype(Free)>::type, Deleter<Free>>;

// A failed call: its result code, its message, and its details.
class Error : public std::runtime_error {
public:
    Error(seatcore_result code, std::string message, std::vector<std::string> unavailable,
          std::optional<std::size_t> index, std::vector<std::string> not_in_hold = {})
        : std::runtime_error(std::move(message)), code_(code), unavailable_(std::move(unavailable)),
          index_(index), not_in_hold_(std::move(not_in_hold)) {}

    seatcore_result code() const noexcept { return code_; }
    const char *code_name() const noexcept { return seatcore_result_name(code_); }
    // For SEATCORE_SEATS_UNAVAILABLE: the taken seats, in seat-map order.
    const std::vector<std::string> &unavailable_seats() const noexcept { return unavailable_; }
    // For errors about one element of a seat list: its position.
    std::optional<std::size_t> index() const noexcept { return index_; }
    // For SEATCORE_SEATS_NOT_IN_HOLD: the seats asked for that the hold does not have.
    const std::vector<std::string> &seats_not_in_hold() const noexcept { return not_in_hold_; }

private:
    seatcore_result code_;
    std::vector<std::string> unavailable_;
    std::optional<std::size_t> index_;
    std::vector<std::string> not_in_hold_;
};

namespace detail {
inline std::string str(const char *s) { return s ? std::string(s) : std::string(); }

inline std::optional<std::string> opt(const char *s) {
    return s ? std::optional<std::string>(s) : std::nullopt;
}

// The strings of one of a C object's lists (`const char *const *`, count).
inline std::vector<std::string> strings(const char *const *items, std::size_t count) {
    return std::vector<std::string>(items, items + count);
}

inline std::vector<std::string> strings(seatcore_seats seats) { return strings(seats.ids, seats.count); }

// Throws the error of a failed call; takes ownership of `raw`.
inline void check(seatcore_result code, seatcore_error *raw) {
    Owned<seatcore_error_free> err(raw);
    if (code == SEATCORE_OK) {
        return;
    }
    if (!err) {
        throw Error(code, seatcore_result_name(code), {}, std::nullopt);
    }
    throw Error(code, str(err->message), strings(err->unavailable),
                err->has_index ? std::optional<std::size_t>(err->index) : std::nullopt, strings(err->not_in_hold));
}

// Runs one C call `f(&err)` and throws its error, if any. (The call must finish before `err`
// is read, hence a lambda rather than check(f(..., &err), err).)
template <typename F>
void call(F &&f) {
    seatcore_error *err = nullptr;
    seatcore_result code = f(&err);
    check(code, err);
}

// Runs the C function `f(args..., &err)`; throws its error, if any.
template <typename F, typename... Args>
void run(F f, Args... args) {
    call([&](seatcore_error **err) { return f(args..., err); });
}

// Runs the C function `f(args..., &out, &err)`, whose last out-parameter is an `Out`, and
// returns `out`; throws the error, if any.
template <typename Out, typename F, typename... Args>
Out get(F f, Args... args) {
    Out out{};
    call([&](seatcore_error **err) { return f(args..., &out, err); });
    return out;
}

// `get` for a C function that makes an object: the object, owned by an Owned<Free>.
template <auto Free, typename F, typename... Args>
Owned<Free> make(F f, Args... args) {
    return Owned<Free>(get<typename Owned<Free>::element_type *>(f, args...));
}

inline std::vector<const char *> c_strings(const std::vector<std::string> &v) {
    std::vector<const char *> out;
    out.reserve(v.size());
    for (const auto &s : v) {
        out.push_back(s.c_str());
    }
    return out;
}

// A seat list argument over `ids`, valid while `ids` is.
inline seatcore_seats seats(const std::vector<const char *> &ids) { return seatcore_seats{ids.data(), ids.size()}; }

// The user data of a callback read: hands each C item to `each` as `convert` makes it.
// No exception may cross the C call, so the first one `each` throws is kept, the items
// after it are skipped, and read() rethrows it once the C call has returned.
template <typename CItem, typename Convert, typename Each>
struct Visit {
    Convert convert;
    Each &each;
    std::exception_ptr thrown;

    static void call(void *self, const CItem *item) noexcept {
        auto *v = static_cast<Visit *>(self);
        if (v->thrown) {
            return;
        }
        try {
            v->each(v->convert(*item));
        } catch (...) {
            v->thrown = std::current_exception();
        }
    }

    // Runs the C read `f(args..., call, this, &out, &err)` and returns `out`; throws what
    // `each` threw, else the read's error.
    template <typename Out, typename F, typename... Args>
    Out read(F f, Args... args) {
        Out out{};
        try {
            out = get<Out>(f, args..., &Visit::call, static_cast<void *>(this));
        } catch (...) {
            rethrow();
            throw;
        }
        rethrow();
        return out;
    }

    void rethrow() const {
        if (thrown) {
            std::rethrow_exception(thrown);
        }
    }
};

// A Visit of `each` over `CItem`s converted by `convert`.
template <typename CItem, typename Convert, typename Each>
Visit<CItem, Convert, Each> visit(Convert convert, Each &each) {
    return Visit<CItem, Convert, Each>{convert, each, nullptr};
}
}  // namespace detail

// A hold, a booking or a cancelled booking, as seatcore_record: an id, the show, the seats,
// and one moment (`at`: a hold's expiry, a booking's time, a booking's first cancellation).
struct Record {
    std::string id;  // the hold's id; a booking's (the id of its hold); the cancelled booking's
    std::string show_id;
    std::vector<std::string> seat_ids;
    std::string at;  // ISO 8601
    std::int64_t at_us;
};
using Hold = Record;
using Booking = Record;
using Cancellation = Record;

struct Seat {
    std::string seat_id;
    seatcore_seat_state state;
    std::optional<std::string> hold_expires_at;  // set exactly when held

    const char *state_name() const noexcept { return seatcore_seat_state_name(state); }
};

struct ShowStatus {
    std::string show_id;
    seatcore_seat_counts counts;
    std::vector<Seat> seats;  // seat-map order
};

// One seat of a seat map. As input: an empty section or category means none, no row means
// a seat in no row (unless place_from_id: row and position from the seat id, "A12"), no
// rank means the default rank. Read back from seat_map(), every field is settled.
struct MapSeat {
    std::string seat_id;
    std::string section;
    std::optional<std::string> row;
    std::int64_t position = -1;
    std::string category;
    bool accessible = false;
    bool place_from_id = false;
    std::optional<double> rank;
};

// Which seats a best-available hold may take; nullopt does not filter.
struct BestFilters {
    std::optional<std::string> category;
    std::optional<std::string> section;
    std::optional<bool> accessible;
};

// What Client::audit found. `summary.problem_count` counts every problem; `problems` lists them,
// or the first of them when there are more (see seatcore_audit_report.problems_listed).
struct Audit {
    seatcore_audit_summary summary;
    std::vector<std::string> problems;
};

// What Client::release_seats did: the seats released, and those the hold keeps (none: the
// hold is released).
struct SeatsReleased {
    std::string hold_id;
    std::vector<std::string> seat_ids;
    std::vector<std::string> remaining_seat_ids;
};

// Connection settings: seatcore_options with the defaults filled in; set the fields you
// need (see seatcore_options in seatcore.h for each one's default and range). Client's
// constructor checks them: a value out of range throws Error (SEATCORE_CONFIG).
struct Options : seatcore_options {
    Options() : seatcore_options(seatcore_options_default()) {}
};

// Copies of the C API's result objects as C++ values.
namespace detail {
inline Record record(const seatcore_record *r) {
    return Record{str(r->id), str(r->show_id), strings(r->seats), str(r->at), r->at_us};
}

inline SeatsReleased seats_released(const seatcore_seats_released *r) {
    return SeatsReleased{str(r->hold_id), strings(r->released), strings(r->remaining)};
}

inline Audit audit(const seatcore_audit_report *r) {
    return Audit{r->summary, strings(r->problems, r->problems_listed)};
}

inline Seat seat(const seatcore_seat &s) { return Seat{s.seat_id, s.state, opt(s.hold_expires_at)}; }

inline MapSeat map_seat(const seatcore_map_seat &e) {
    return MapSeat{e.seat_id, e.section, opt(e.row), e.position, e.category, e.accessible, false, e.rank};
}
}  // namespace detail

struct History;  // the change log, at the end of this file

// A handle on the seat database. Movable, not copyable; thread-safe like seatcore_client.
class Client {
public:
    explicit Client(const std::string &database_url, const seatcore_options &options = Options())
        : p_(detail::make<seatcore_client_free>(seatcore_client_new, database_url.c_str(), &options)) {}

    // Creates a show; returns the number of seats. Throws SEATCORE_SHOW_EXISTS if it exists.
    std::size_t initialize_show(const std::string &show_id, const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        return detail::get<std::size_t>(seatcore_initialize_show, p_.get(), show_id.c_str(), detail::seats(ids));
    }

    // Holds seats, all or none; with a request key, a retry returns the hold the first call made.
    Hold hold_seats(const std::string &show_id, const std::vector<std::string> &seat_ids, std::int64_t seconds,
                    const std::optional<std::string> &request_key = std::nullopt) const {
        auto ids = detail::c_strings(seat_ids);
        const char *key = request_key ? request_key->c_str() : nullptr;
        auto hold = detail::make<seatcore_hold_free>(seatcore_hold_seats, p_.get(), show_id.c_str(), detail::seats(ids),
                                                     seconds, key);
        return detail::record(hold.get());
    }

    // A structured seat map: see seatcore_map_seat (an empty row: a seat in no row).
    std::size_t initialize_map(const std::string &show_id, const std::vector<MapSeat> &seats) const {
        std::vector<seatcore_map_seat> raw;
        raw.reserve(seats.size());
        for (const MapSeat &s : seats) {
            seatcore_map_seat r{};
            r.seat_id = s.seat_id.c_str();
            r.section = s.section.empty() ? nullptr : s.section.c_str();
            r.row = s.row ? s.row->c_str() : nullptr;
            r.position = s.position;
            r.category = s.category.empty() ? nullptr : s.category.c_str();
            r.accessible = s.accessible;
            r.place_from_id = s.place_from_id;
            r.has_rank = s.rank.has_value();
            r.rank = s.rank.value_or(0.0);
            raw.push_back(r);
        }
        return detail::get<std::size_t>(seatcore_initialize_map, p_.get(), show_id.c_str(),
                                        seatcore_map{raw.data(), raw.size()});
    }

    // The show's seat map, in map order, every field settled.
    std::vector<MapSeat> seat_map(const std::string &show_id) const {
        auto m = detail::make<seatcore_map_free>(seatcore_seat_map, p_.get(), show_id.c_str());
        std::vector<MapSeat> out;
        out.reserve(m->seat_count);
        for (std::size_t i = 0; i < m->seat_count; i++) {
            out.push_back(detail::map_seat(m->seats[i]));
        }
        return out;
    }

    // The show's seat map, seat by seat: calls `each(MapSeat)` in map order, as seat_map()
    // reads each seat back, collecting nothing (for very large maps); returns the number of
    // seats. Once `each` throws, the seats after are skipped, and the exception is rethrown
    // when the read has ended.
    template <typename F>
    std::size_t seat_map_each(const std::string &show_id, F &&each) const {
        auto v = detail::visit<seatcore_map_seat>(detail::map_seat, each);
        return v.template read<std::size_t>(seatcore_seat_map_each, p_.get(), show_id.c_str());
    }

    // Blocks seats, all or none (an empty reason: none).
    void block_seats(const std::string &show_id, const std::vector<std::string> &seat_ids,
                     const std::string &reason = "") const {
        auto ids = detail::c_strings(seat_ids);
        detail::run(seatcore_block_seats, p_.get(), show_id.c_str(), detail::seats(ids),
                    reason.empty() ? nullptr : reason.c_str());
    }

    void unblock_seats(const std::string &show_id, const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        detail::run(seatcore_unblock_seats, p_.get(), show_id.c_str(), detail::seats(ids));
    }

    // Holds the best `count` seats side by side in one row matching the filters; throws
    // SEATCORE_NO_ADJACENT_SEATS when no block fits.
    Hold hold_best(const std::string &show_id, std::size_t count, std::int64_t seconds,
                   const BestFilters &filters = {}, const std::optional<std::string> &request_key = std::nullopt) const {
        seatcore_best_filters f{filters.category ? filters.category->c_str() : nullptr,
                                filters.section ? filters.section->c_str() : nullptr,
                                filters.accessible ? (*filters.accessible ? SEATCORE_ACCESSIBLE_ONLY
                                                                          : SEATCORE_NOT_ACCESSIBLE)
                                                   : SEATCORE_ANY};
        const char *key = request_key ? request_key->c_str() : nullptr;
        auto hold =
            detail::make<seatcore_hold_free>(seatcore_hold_best, p_.get(), show_id.c_str(), count, &f, seconds, key);
        return detail::record(hold.get());
    }

    Booking book_hold(const std::string &show_id, const std::string &hold_id) const {
        auto booking =
            detail::make<seatcore_booking_free>(seatcore_book_hold, p_.get(), show_id.c_str(), hold_id.c_str());
        return detail::record(booking.get());
    }

    void release_hold(const std::string &show_id, const std::string &hold_id) const {
        detail::run(seatcore_release_hold, p_.get(), show_id.c_str(), hold_id.c_str());
    }

    ShowStatus seat_status(const std::string &show_id) const {
        auto st = detail::make<seatcore_status_free>(seatcore_seat_status, p_.get(), show_id.c_str());
        ShowStatus out{detail::str(st->show_id), st->counts, {}};
        out.seats.reserve(st->seat_count);
        for (std::size_t i = 0; i < st->seat_count; i++) {
            out.seats.push_back(detail::seat(st->seats[i]));
        }
        return out;
    }

    // The show's seats streamed to `each(Seat)` in seat-map order as the database sends them,
    // collecting nothing (for very large shows); returns the counts. One statement: one
    // moment. Once `each` throws, the seats after are skipped, and the exception is rethrown
    // when the read has ended.
    template <typename F>
    seatcore_seat_counts seat_status_each(const std::string &show_id, F &&each) const {
        auto v = detail::visit<seatcore_seat>(detail::seat, each);
        return v.template read<seatcore_seat_counts>(seatcore_seat_status_each, p_.get(), show_id.c_str());
    }

    std::uint64_t sweep_expired() const { return detail::get<std::uint64_t>(seatcore_sweep_expired, p_.get()); }

    std::uint64_t health() const { return detail::get<std::uint64_t>(seatcore_health, p_.get()); }

    // Checks every invariant of the stored rows, of one show or (nullopt) of all.
    Audit audit(const std::optional<std::string> &show_id = std::nullopt) const {
        const char *show = show_id ? show_id->c_str() : nullptr;
        auto report = detail::make<seatcore_audit_free>(seatcore_audit, p_.get(), show);
        return detail::audit(report.get());
    }

    // ---- the hold lifecycle ----

    // A new expiry for a live hold: `seconds` from now, never past its creation plus the
    // maximum hold life. Returns the hold with its new expiry.
    Hold extend_hold(const std::string &show_id, const std::string &hold_id, std::int64_t seconds) const {
        auto hold =
            detail::make<seatcore_hold_free>(seatcore_extend_hold, p_.get(), show_id.c_str(), hold_id.c_str(), seconds);
        return detail::record(hold.get());
    }

    // Releases some seats of a live hold; it keeps the rest. Throws SEATCORE_SEATS_NOT_IN_HOLD
    // (Error::seats_not_in_hold lists them) without releasing anything.
    SeatsReleased release_seats(const std::string &show_id, const std::string &hold_id,
                                const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        auto released = detail::make<seatcore_seats_released_free>(seatcore_release_seats, p_.get(), show_id.c_str(),
                                                                   hold_id.c_str(), detail::seats(ids));
        return detail::seats_released(released.get());
    }

    // Cancels a booking (again: the same answer). Booking its hold again then throws
    // SEATCORE_BOOKING_CANCELLED.
    Cancellation cancel_booking(const std::string &show_id, const std::string &booking_id) const {
        auto cancellation = detail::make<seatcore_cancellation_free>(seatcore_cancel_booking, p_.get(), show_id.c_str(),
                                                                     booking_id.c_str());
        return detail::record(cancellation.get());
    }

    // ---- end of the hold lifecycle ----
    // A page of the show's history, oldest first: the changes after change id `after`, only
    // those about `seat_id` when given, at most `limit` (1 to 1000).
    History history(const std::string &show_id, std::int64_t after = 0,
                    const std::optional<std::string> &seat_id = std::nullopt, std::uint32_t limit = 100) const;

    seatcore_reset_counts reset_all() const {
        return detail::get<seatcore_reset_counts>(seatcore_reset_all, p_.get());
    }

    const seatcore_client *get() const noexcept { return p_.get(); }

private:
    Owned<seatcore_client_free> p_;
};

// ---- the change log ----

// One record of a show's change log.
struct Change {
    std::int64_t id;
    std::string kind;  // "held", "booked", "released", ...
    std::string show_id;
    std::vector<std::string> seat_ids;
    std::optional<std::string> hold_id;
    std::optional<std::string> booking_id;
    std::string at;  // ISO 8601
    std::int64_t at_us;
    std::optional<std::string> expires_at;  // ISO 8601; held, extended, expired
    std::int64_t expires_at_us;             // 0 without expires_at
};

// A page of a show's history, oldest first; `next` is the `after` of the following page.
struct History {
    std::vector<Change> changes;
    std::int64_t next;
};

namespace detail {
inline Change change(const seatcore_change &c) {
    return Change{c.id,
                  str(c.kind),
                  str(c.show_id),
                  strings(c.seats),
                  opt(c.hold_id),
                  opt(c.booking_id),
                  str(c.at),
                  c.at_us,
                  opt(c.expires_at),
                  c.expires_at_us};
}
}  // namespace detail

inline History Client::history(const std::string &show_id, std::int64_t after,
                               const std::optional<std::string> &seat_id, std::uint32_t limit) const {
    const char *seat = seat_id ? seat_id->c_str() : nullptr;
    auto page = detail::make<seatcore_history_free>(seatcore_history, p_.get(), show_id.c_str(), after, seat, limit);
    History out{{}, page->next};
    for (std::size_t i = 0; i < page->count; i++) {
        out.changes.push_back(detail::change(page->changes[i]));
    }
    return out;
}

// A watch of one show's changes: each committed change once, in id order. Owns a database
// connection (closed when the Watch is destroyed). Movable, not copyable; one thread at a time.
class Watch {
public:
    // From now (after every change committed before), or after change id `*after`.
    Watch(const Client &client, const std::string &show_id, std::optional<std::int64_t> after = std::nullopt)
        : p_(detail::make<seatcore_watch_free>(seatcore_watch_open, client.get(), show_id.c_str(),
                                    after ? *after : SEATCORE_FROM_NOW)) {}

    // The next change, waiting up to `timeout`; nullopt when none came in time.
    std::optional<Change> next(std::chrono::milliseconds timeout) {
        auto ms = static_cast<std::uint64_t>(timeout.count() < 0 ? 0 : timeout.count());
        auto c = detail::make<seatcore_change_free>(seatcore_watch_next, p_.get(), ms);
        if (!c) {
            return std::nullopt;
        }
        return detail::change(*c);
    }

    // The id of the last change returned (or the starting point): resume from it.
    std::int64_t position() const noexcept { return seatcore_watch_position(p_.get()); }

private:
    Owned<seatcore_watch_free> p_;
};

}  // namespace seatcore

#endif  // SEATCORE_HPP
