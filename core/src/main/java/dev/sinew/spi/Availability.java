package dev.sinew.spi;

/** The result of {@link BackendProvider#probe()}: usable, or the reason it is not. */
public record Availability(boolean available, String reason) {
    public static Availability yes(String detail) {
        return new Availability(true, detail);
    }

    public static Availability no(String reason) {
        return new Availability(false, reason);
    }

    @Override
    public String toString() {
        return available ? "available" + (reason.isEmpty() ? "" : " (" + reason + ")") : "unavailable: " + reason;
    }
}
