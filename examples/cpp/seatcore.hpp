// seatcore.hpp: a small C++17 RAII wrapper over seatcore.h.
//
// Every C object lives in a std::unique_ptr with its _free function as deleter; failures
// become seatcore::Error exceptions carrying the result code, the message and the seats
// concerned (the taken seats for "seats unavailable", the seats the hold lacks for "seats
// not in hold"). Results are copied into plain C++ values.
// A seatcore::Client may be shared by many threads, like the seatcore_client it wraps.
// A configuration that cannot work (an option out of range, a malformed URL, an unreadable
// certificate) throws at once, with the code SEATCORE_CONFIG.
#ifndef SEATCORE_HPP
#define SEATCORE_HPP

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "seatcore.h"

namespace seatcore {

// Owns a C object and frees it with F.
template <typename T, void (*F)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { F(p); }
};
template <typename T, void (*F)(T *)>
using Owned = std::unique_ptr<T, Deleter<T, F>>;

using ErrorPtr = Owned<seatcore_error, seatcore_error_free>;
using ClientPtr = Owned<seatcore_client, seatcore_client_free>;
using HoldPtr = Owned<seatcore_hold, seatcore_hold_free>;
using BookingPtr = Owned<seatcore_booking, seatcore_booking_free>;
using StatusPtr = Owned<seatcore_status, seatcore_status_free>;
using OptionsPtr = Owned<seatcore_options, seatcore_options_free>;
using AuditPtr = Owned<seatcore_audit_report, seatcore_audit_free>;
using SeatMapPtr = Owned<seatcore_map, seatcore_map_free>;
using SeatsReleasedPtr = Owned<seatcore_seats_released, seatcore_seats_released_free>;
using CancellationPtr = Owned<seatcore_cancellation, seatcore_cancellation_free>;
using HistoryPtr = Owned<seatcore_history_page, seatcore_history_free>;
using WatchPtr = Owned<seatcore_watch, seatcore_watch_free>;
using ChangePtr = Owned<seatcore_change, seatcore_change_free>;

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

// The strings of one of a C object's lists: `item(obj, i)` for every i below `count(obj)`.
template <typename T>
std::vector<std::string> strings(const T *obj, std::size_t (*count)(const T *),
                                 const char *(*item)(const T *, std::size_t)) {
    std::vector<std::string> out;
    out.reserve(count(obj));
    for (std::size_t i = 0; i < count(obj); i++) {
        out.push_back(str(item(obj, i)));
    }
    return out;
}

// Throws the error of a failed call; takes ownership of `raw`.
inline void check(seatcore_result code, seatcore_error *raw) {
    ErrorPtr err(raw);
    if (code == SEATCORE_OK) {
        return;
    }
    std::size_t index = 0;
    std::optional<std::size_t> at;
    if (seatcore_error_index(err.get(), &index)) {
        at = index;
    }
    std::string message = err ? str(seatcore_error_message(err.get())) : seatcore_result_name(code);
    throw Error(code, std::move(message),
                strings(err.get(), seatcore_error_unavailable_count, seatcore_error_unavailable_seat), at,
                strings(err.get(), seatcore_error_not_in_hold_count, seatcore_error_not_in_hold_seat));
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

// `get` for a C function that makes an object: the object, owned by a `Ptr` (an Owned<T, F>).
template <typename Ptr, typename F, typename... Args>
Ptr make(F f, Args... args) {
    return Ptr(get<typename Ptr::element_type *>(f, args...));
}

inline std::vector<const char *> c_strings(const std::vector<std::string> &v) {
    std::vector<const char *> out;
    out.reserve(v.size());
    for (const auto &s : v) {
        out.push_back(s.c_str());
    }
    return out;
}
}  // namespace detail

struct Hold {
    std::string hold_id;
    std::string show_id;
    std::vector<std::string> seat_ids;
    std::string expires_at;  // ISO 8601
    std::int64_t expires_at_us;
};

struct Booking {
    std::string booking_id;
    std::string show_id;
    std::vector<std::string> seat_ids;
    std::string booked_at;  // ISO 8601
    std::int64_t booked_at_us;
};

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

// What Client::audit found. `problem_count` counts every problem; `problems` lists them,
// or the first of them when there are more (see seatcore_audit_problems_listed).
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

struct Audit {
    bool ok;
    std::uint64_t shows;
    std::uint64_t seats;
    std::uint64_t held;
    std::uint64_t booked;
    std::uint64_t problem_count;
    std::vector<std::string> problems;
};

// What Client::release_seats did: the seats released, and those the hold keeps (none: the
// hold is released).
struct SeatsReleased {
    std::string hold_id;
    std::vector<std::string> seat_ids;
    std::vector<std::string> remaining_seat_ids;
};

// A cancelled booking (kept, marked cancelled; its seats are available).
struct Cancellation {
    std::string booking_id;
    std::string show_id;
    std::vector<std::string> seat_ids;
    std::string cancelled_at;  // ISO 8601
    std::int64_t cancelled_at_us;
};

// Connection settings; see seatcore_options_* in seatcore.h for defaults and ranges. A value
// out of range throws Error (SEATCORE_CONFIG) and leaves the option as it was.
class Options {
public:
    Options() : p_(seatcore_options_new()) {}
    Options &pool_size(std::uint32_t n) { return set(seatcore_options_set_pool_size, n); }
    Options &min_idle(std::uint32_t n) { return set(seatcore_options_set_min_idle, n); }
    Options &checkout_timeout_ms(std::uint64_t ms) { return set(seatcore_options_set_checkout_timeout_ms, ms); }
    Options &connect_timeout_ms(std::uint64_t ms) { return set(seatcore_options_set_connect_timeout_ms, ms); }
    Options &statement_timeout_ms(std::uint64_t ms) { return set(seatcore_options_set_statement_timeout_ms, ms); }
    Options &lock_timeout_ms(std::uint64_t ms) { return set(seatcore_options_set_lock_timeout_ms, ms); }
    Options &sweep_batch(std::uint32_t n) { return set(seatcore_options_set_sweep_batch, n); }
    Options &migrate(bool on) { return set(seatcore_options_set_migrate, on); }
    Options &max_hold_life_s(std::uint64_t s) { return set(seatcore_options_set_max_hold_life_s, s); }
    // Where status reads go (a hot standby); see seatcore_options_set_read_url.
    Options &read_url(const std::string &url) { return set(seatcore_options_set_read_url, url.c_str()); }
    const seatcore_options *get() const noexcept { return p_.get(); }

private:
    template <typename V>
    Options &set(seatcore_result (*f)(seatcore_options *, V, seatcore_error **), V v) {
        detail::run(f, p_.get(), v);
        return *this;
    }
    OptionsPtr p_;
};

// Copies of the C API's result objects as C++ values.
namespace detail {
// A hold, a booking or a cancellation (R), read through the accessors of its C object: its
// id, its show, its seats, and its moment as text and in microseconds.
template <typename R, typename T>
R record(const T *obj, const char *(*id)(const T *), const char *(*show_id)(const T *),
         std::size_t (*seat_count)(const T *), const char *(*seat_id)(const T *, std::size_t),
         const char *(*at)(const T *), std::int64_t (*at_us)(const T *)) {
    return R{str(id(obj)), str(show_id(obj)), strings(obj, seat_count, seat_id), str(at(obj)), at_us(obj)};
}

inline Hold hold(const HoldPtr &h) {
    return record<Hold>(h.get(), seatcore_hold_id, seatcore_hold_show_id, seatcore_hold_seat_count,
                        seatcore_hold_seat_id, seatcore_hold_expires_at, seatcore_hold_expires_at_us);
}

inline Booking booking(const BookingPtr &b) {
    return record<Booking>(b.get(), seatcore_booking_id, seatcore_booking_show_id, seatcore_booking_seat_count,
                           seatcore_booking_seat_id, seatcore_booking_booked_at, seatcore_booking_booked_at_us);
}

inline Cancellation cancellation(const CancellationPtr &c) {
    return record<Cancellation>(c.get(), seatcore_cancellation_booking_id, seatcore_cancellation_show_id,
                                seatcore_cancellation_seat_count, seatcore_cancellation_seat_id,
                                seatcore_cancellation_cancelled_at, seatcore_cancellation_cancelled_at_us);
}

inline SeatsReleased seats_released(const SeatsReleasedPtr &r) {
    return SeatsReleased{
        str(seatcore_seats_released_hold_id(r.get())),
        strings(r.get(), seatcore_seats_released_seat_count, seatcore_seats_released_seat_id),
        strings(r.get(), seatcore_seats_released_remaining_count, seatcore_seats_released_remaining_seat_id)};
}

inline Audit audit(const AuditPtr &r) {
    return Audit{seatcore_audit_ok(r.get()),
                 seatcore_audit_shows(r.get()),
                 seatcore_audit_seats(r.get()),
                 seatcore_audit_held(r.get()),
                 seatcore_audit_booked(r.get()),
                 seatcore_audit_problem_count(r.get()),
                 strings(r.get(), seatcore_audit_problems_listed, seatcore_audit_problem)};
}
}  // namespace detail

struct History;  // the change log, at the end of this file

// A handle on the seat database. Movable, not copyable; thread-safe like seatcore_client.
class Client {
public:
    explicit Client(const std::string &database_url, const Options &options = Options())
        : p_(detail::make<ClientPtr>(seatcore_client_new, database_url.c_str(), options.get())) {}

    // Creates a show; returns the number of seats. Throws SEATCORE_SHOW_EXISTS if it exists.
    std::size_t initialize_show(const std::string &show_id, const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        return detail::get<std::size_t>(seatcore_initialize_show, p_.get(), show_id.c_str(), ids.data(), ids.size());
    }

    Hold hold_seats(const std::string &show_id, const std::vector<std::string> &seat_ids,
                    std::int64_t seconds) const {
        auto ids = detail::c_strings(seat_ids);
        return detail::hold(
            detail::make<HoldPtr>(seatcore_hold_seats, p_.get(), show_id.c_str(), ids.data(), ids.size(), seconds));
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
        return detail::get<std::size_t>(seatcore_initialize_map, p_.get(), show_id.c_str(), raw.data(), raw.size());
    }

    // The show's seat map, in map order, every field settled.
    std::vector<MapSeat> seat_map(const std::string &show_id) const {
        SeatMapPtr m = detail::make<SeatMapPtr>(seatcore_seat_map, p_.get(), show_id.c_str());
        std::vector<MapSeat> out;
        out.reserve(seatcore_map_count(m.get()));
        for (std::size_t i = 0; i < seatcore_map_count(m.get()); i++) {
            auto e = detail::get<seatcore_map_entry>(seatcore_map_seat_at, m.get(), i);
            out.push_back(
                MapSeat{e.seat_id, e.section, detail::opt(e.row), e.position, e.category, e.accessible, false, e.rank});
        }
        return out;
    }

    // Blocks seats, all or none (an empty reason: none).
    void block_seats(const std::string &show_id, const std::vector<std::string> &seat_ids,
                     const std::string &reason = "") const {
        auto ids = detail::c_strings(seat_ids);
        detail::run(seatcore_block_seats, p_.get(), show_id.c_str(), ids.data(), ids.size(),
                    reason.empty() ? nullptr : reason.c_str());
    }

    void unblock_seats(const std::string &show_id, const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        detail::run(seatcore_unblock_seats, p_.get(), show_id.c_str(), ids.data(), ids.size());
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
        return detail::hold(
            detail::make<HoldPtr>(seatcore_hold_best, p_.get(), show_id.c_str(), count, &f, seconds, key));
    }

    Booking book_hold(const std::string &show_id, const std::string &hold_id) const {
        return detail::booking(
            detail::make<BookingPtr>(seatcore_book_hold, p_.get(), show_id.c_str(), hold_id.c_str()));
    }

    void release_hold(const std::string &show_id, const std::string &hold_id) const {
        detail::run(seatcore_release_hold, p_.get(), show_id.c_str(), hold_id.c_str());
    }

    ShowStatus seat_status(const std::string &show_id) const {
        StatusPtr st = detail::make<StatusPtr>(seatcore_seat_status, p_.get(), show_id.c_str());
        ShowStatus out{detail::str(seatcore_status_show_id(st.get())),
                       detail::get<seatcore_seat_counts>(seatcore_status_counts, st.get()),
                       {}};
        std::size_t n = seatcore_status_seat_count(st.get());
        out.seats.reserve(n);
        for (std::size_t i = 0; i < n; i++) {
            auto seat = detail::get<seatcore_seat>(seatcore_status_seat, st.get(), i);
            out.seats.push_back(Seat{seat.seat_id, seat.state, detail::opt(seat.hold_expires_at)});
        }
        return out;
    }

    std::uint64_t sweep_expired() const { return detail::get<std::uint64_t>(seatcore_sweep_expired, p_.get()); }

    std::uint64_t health() const { return detail::get<std::uint64_t>(seatcore_health, p_.get()); }

    // Checks every invariant of the stored rows, of one show or (nullopt) of all.
    Audit audit(const std::optional<std::string> &show_id = std::nullopt) const {
        const char *show = show_id ? show_id->c_str() : nullptr;
        return detail::audit(detail::make<AuditPtr>(seatcore_audit, p_.get(), show));
    }

    // ---- the hold lifecycle ----

    // A new expiry for a live hold: `seconds` from now, never past its creation plus the
    // maximum hold life. Returns the hold with its new expiry.
    Hold extend_hold(const std::string &show_id, const std::string &hold_id, std::int64_t seconds) const {
        return detail::hold(
            detail::make<HoldPtr>(seatcore_extend_hold, p_.get(), show_id.c_str(), hold_id.c_str(), seconds));
    }

    // Releases some seats of a live hold; it keeps the rest. Throws SEATCORE_SEATS_NOT_IN_HOLD
    // (Error::seats_not_in_hold lists them) without releasing anything.
    SeatsReleased release_seats(const std::string &show_id, const std::string &hold_id,
                                const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        return detail::seats_released(detail::make<SeatsReleasedPtr>(seatcore_release_seats, p_.get(), show_id.c_str(),
                                                                     hold_id.c_str(), ids.data(), ids.size()));
    }

    // Cancels a booking (again: the same answer). Booking its hold again then throws
    // SEATCORE_BOOKING_CANCELLED.
    Cancellation cancel_booking(const std::string &show_id, const std::string &booking_id) const {
        return detail::cancellation(
            detail::make<CancellationPtr>(seatcore_cancel_booking, p_.get(), show_id.c_str(), booking_id.c_str()));
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
    ClientPtr p_;
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
inline Change change(const seatcore_change *c) {
    return Change{seatcore_change_id(c),
                  str(seatcore_change_kind(c)),
                  str(seatcore_change_show_id(c)),
                  strings(c, seatcore_change_seat_count, seatcore_change_seat_id),
                  opt(seatcore_change_hold_id(c)),
                  opt(seatcore_change_booking_id(c)),
                  str(seatcore_change_at(c)),
                  seatcore_change_at_us(c),
                  opt(seatcore_change_expires_at(c)),
                  seatcore_change_expires_at_us(c)};
}
}  // namespace detail

inline History Client::history(const std::string &show_id, std::int64_t after,
                               const std::optional<std::string> &seat_id, std::uint32_t limit) const {
    const char *seat = seat_id ? seat_id->c_str() : nullptr;
    HistoryPtr page = detail::make<HistoryPtr>(seatcore_history, p_.get(), show_id.c_str(), after, seat, limit);
    History out{{}, seatcore_history_next(page.get())};
    for (std::size_t i = 0; i < seatcore_history_count(page.get()); i++) {
        out.changes.push_back(detail::change(seatcore_history_change(page.get(), i)));
    }
    return out;
}

// A watch of one show's changes: each committed change once, in id order. Owns a database
// connection (closed when the Watch is destroyed). Movable, not copyable; one thread at a time.
class Watch {
public:
    // From now (after every change committed before), or after change id `*after`.
    Watch(const Client &client, const std::string &show_id, std::optional<std::int64_t> after = std::nullopt)
        : p_(detail::make<WatchPtr>(seatcore_watch_open, client.get(), show_id.c_str(),
                                    after ? *after : SEATCORE_FROM_NOW)) {}

    // The next change, waiting up to `timeout`; nullopt when none came in time.
    std::optional<Change> next(std::chrono::milliseconds timeout) {
        auto ms = static_cast<std::uint64_t>(timeout.count() < 0 ? 0 : timeout.count());
        ChangePtr c = detail::make<ChangePtr>(seatcore_watch_next, p_.get(), ms);
        if (!c) {
            return std::nullopt;
        }
        return detail::change(c.get());
    }

    // The id of the last change returned (or the starting point): resume from it.
    std::int64_t position() const noexcept { return seatcore_watch_position(p_.get()); }

private:
    WatchPtr p_;
};

}  // namespace seatcore

#endif  // SEATCORE_HPP
