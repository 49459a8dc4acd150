package dev.usethread;

/**
 * Thrown at a cancellation poll of a thread whose run was cancelled.
 *
 * <p>It extends {@link Error}, not {@link Exception}, so that {@code catch (Exception e)} in
 * application or library code does not swallow it. Cancellation is sticky: code that catches it
 * (even as {@code Throwable}) and carries on gets it again at the next poll, until the run ends.
 */
public class CancelledSignal extends Error {
    private static final long serialVersionUID = 1L;

    /**
     * Creates a signal with the given detail message.
     *
     * @param message the detail message
     */
    public CancelledSignal(String message) {
        super(message);
    }
}
