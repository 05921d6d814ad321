// seatcore.hpp: a small C++17 RAII wrapper over seatcore.h.
//
// Every C object lives in a std::unique_ptr with its _free function as deleter; failures
// become seatcore::Error exceptions carrying the result code, the message and (for
// "seats unavailable") the taken seats. Results are copied into plain C++ values.
// A seatcore::Client may be shared by many threads, like the seatcore_client it wraps.
// A configuration that cannot work (an option out of range, a malformed URL, an unreadable
// certificate) throws at once, with the code SEATCORE_CONFIG.
#ifndef SEATCORE_HPP
#define SEATCORE_HPP

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

// A failed call: its result code, its message, and its details.
class Error : public std::runtime_error {
public:
    Error(seatcore_result code, std::string message, std::vector<std::string> unavailable,
          std::optional<std::size_t> index)
        : std::runtime_error(std::move(message)), code_(code), unavailable_(std::move(unavailable)),
          index_(index) {}

    seatcore_result code() const noexcept { return code_; }
    const char *code_name() const noexcept { return seatcore_result_name(code_); }
    // For SEATCORE_SEATS_UNAVAILABLE: the taken seats, in seat-map order.
    const std::vector<std::string> &unavailable_seats() const noexcept { return unavailable_; }
    // For errors about one element of a seat list: its position.
    std::optional<std::size_t> index() const noexcept { return index_; }

private:
    seatcore_result code_;
    std::vector<std::string> unavailable_;
    std::optional<std::size_t> index_;
};

namespace detail {
inline std::string str(const char *s) { return s ? std::string(s) : std::string(); }

// Throws the error of a failed call; takes ownership of `raw`.
inline void check(seatcore_result code, seatcore_error *raw) {
    ErrorPtr err(raw);
    if (code == SEATCORE_OK) {
        return;
    }
    std::vector<std::string> unavailable;
    for (std::size_t i = 0; i < seatcore_error_unavailable_count(err.get()); i++) {
        unavailable.push_back(str(seatcore_error_unavailable_seat(err.get(), i)));
    }
    std::size_t index = 0;
    std::optional<std::size_t> at;
    if (seatcore_error_index(err.get(), &index)) {
        at = index;
    }
    std::string message = err ? str(seatcore_error_message(err.get())) : seatcore_result_name(code);
    throw Error(code, std::move(message), std::move(unavailable), at);
}

// Runs one C call `f(&err)` and throws its error, if any. (The call must finish before `err`
// is read, hence a lambda rather than check(f(..., &err), err).)
template <typename F>
void call(F &&f) {
    seatcore_error *err = nullptr;
    seatcore_result code = f(&err);
    check(code, err);
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
struct Audit {
    bool ok;
    std::uint64_t shows;
    std::uint64_t seats;
    std::uint64_t held;
    std::uint64_t booked;
    std::uint64_t problem_count;
    std::vector<std::string> problems;
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
    // Where status reads go (a hot standby); see seatcore_options_set_read_url.
    Options &read_url(const std::string &url) { return set(seatcore_options_set_read_url, url.c_str()); }
    const seatcore_options *get() const noexcept { return p_.get(); }

private:
    template <typename V>
    Options &set(seatcore_result (*f)(seatcore_options *, V, seatcore_error **), V v) {
        detail::call([&](seatcore_error **err) { return f(p_.get(), v, err); });
        return *this;
    }
    OptionsPtr p_;
};

// A handle on the seat database. Movable, not copyable; thread-safe like seatcore_client.
class Client {
public:
    explicit Client(const std::string &database_url, const Options &options = Options()) {
        seatcore_client *raw = nullptr;
        detail::call([&](seatcore_error **err) {
            return seatcore_client_new(database_url.c_str(), options.get(), &raw, err);
        });
        p_.reset(raw);
    }

    // Creates a show; returns the number of seats. Throws SEATCORE_SHOW_EXISTS if it exists.
    std::size_t initialize_show(const std::string &show_id, const std::vector<std::string> &seat_ids) const {
        auto ids = detail::c_strings(seat_ids);
        std::size_t n = 0;
        detail::call([&](seatcore_error **err) {
            return seatcore_initialize_show(p_.get(), show_id.c_str(), ids.data(), ids.size(), &n, err);
        });
        return n;
    }

    Hold hold_seats(const std::string &show_id, const std::vector<std::string> &seat_ids,
                    std::int64_t seconds) const {
        auto ids = detail::c_strings(seat_ids);
        seatcore_hold *raw = nullptr;
        detail::call([&](seatcore_error **err) {
            return seatcore_hold_seats(p_.get(), show_id.c_str(), ids.data(), ids.size(), seconds, &raw, err);
        });
        HoldPtr h(raw);
        Hold out{detail::str(seatcore_hold_id(h.get())), detail::str(seatcore_hold_show_id(h.get())), {},
                 detail::str(seatcore_hold_expires_at(h.get())), seatcore_hold_expires_at_us(h.get())};
        for (std::size_t i = 0; i < seatcore_hold_seat_count(h.get()); i++) {
            out.seat_ids.push_back(detail::str(seatcore_hold_seat_id(h.get(), i)));
        }
        return out;
    }

    Booking book_hold(const std::string &show_id, const std::string &hold_id) const {
        seatcore_booking *raw = nullptr;
        detail::call([&](seatcore_error **err) {
            return seatcore_book_hold(p_.get(), show_id.c_str(), hold_id.c_str(), &raw, err);
        });
        BookingPtr b(raw);
        Booking out{detail::str(seatcore_booking_id(b.get())), detail::str(seatcore_booking_show_id(b.get())), {},
                    detail::str(seatcore_booking_booked_at(b.get())), seatcore_booking_booked_at_us(b.get())};
        for (std::size_t i = 0; i < seatcore_booking_seat_count(b.get()); i++) {
            out.seat_ids.push_back(detail::str(seatcore_booking_seat_id(b.get(), i)));
        }
        return out;
    }

    void release_hold(const std::string &show_id, const std::string &hold_id) const {
        detail::call([&](seatcore_error **err) {
            return seatcore_release_hold(p_.get(), show_id.c_str(), hold_id.c_str(), err);
        });
    }

    ShowStatus seat_status(const std::string &show_id) const {
        seatcore_status *raw = nullptr;
        detail::call([&](seatcore_error **err) { return seatcore_seat_status(p_.get(), show_id.c_str(), &raw, err); });
        StatusPtr st(raw);
        ShowStatus out{detail::str(seatcore_status_show_id(st.get())), {}, {}};
        detail::call([&](seatcore_error **err) { return seatcore_status_counts(st.get(), &out.counts, err); });
        std::size_t n = seatcore_status_seat_count(st.get());
        out.seats.reserve(n);
        for (std::size_t i = 0; i < n; i++) {
            seatcore_seat seat;
            detail::call([&](seatcore_error **err) { return seatcore_status_seat(st.get(), i, &seat, err); });
            out.seats.push_back(Seat{seat.seat_id, seat.state,
                                     seat.hold_expires_at ? std::optional<std::string>(seat.hold_expires_at)
                                                          : std::nullopt});
        }
        return out;
    }

    std::uint64_t sweep_expired() const {
        std::uint64_t removed = 0;
        detail::call([&](seatcore_error **err) { return seatcore_sweep_expired(p_.get(), &removed, err); });
        return removed;
    }

    std::uint64_t health() const {
        std::uint64_t shows = 0;
        detail::call([&](seatcore_error **err) { return seatcore_health(p_.get(), &shows, err); });
        return shows;
    }

    // Checks every invariant of the stored rows, of one show or (nullopt) of all.
    Audit audit(const std::optional<std::string> &show_id = std::nullopt) const {
        seatcore_audit_report *raw = nullptr;
        detail::call([&](seatcore_error **err) {
            return seatcore_audit(p_.get(), show_id ? show_id->c_str() : nullptr, &raw, err);
        });
        AuditPtr r(raw);
        Audit out{seatcore_audit_ok(r.get()),           seatcore_audit_shows(r.get()),
                  seatcore_audit_seats(r.get()),        seatcore_audit_held(r.get()),
                  seatcore_audit_booked(r.get()),       seatcore_audit_problem_count(r.get()),
                  {}};
        for (std::size_t i = 0; i < seatcore_audit_problems_listed(r.get()); i++) {
            out.problems.push_back(detail::str(seatcore_audit_problem(r.get(), i)));
        }
        return out;
    }

    seatcore_reset_counts reset_all() const {
        seatcore_reset_counts counts{};
        detail::call([&](seatcore_error **err) { return seatcore_reset_all(p_.get(), &counts, err); });
        return counts;
    }

    const seatcore_client *get() const noexcept { return p_.get(); }

private:
    ClientPtr p_;
};

}  // namespace seatcore

#endif  // SEATCORE_HPP
