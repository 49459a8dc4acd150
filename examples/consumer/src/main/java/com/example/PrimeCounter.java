package com.example;

import dev.usethread.Result;
import dev.usethread.UseThread;
import java.time.Duration;

/** Counts primes in a background job; a second job that would never end is cancelled. */
public final class PrimeCounter {
    /** Plain code that never checks for cancellation. */
    static long countPrimes(long limit) {
        long count = 0;
        for (long n = 2; n < limit; n++) {
            boolean prime = true;
            for (long d = 2; d * d <= n; d++) {
                if (n % d == 0) {
                    prime = false;
                    break;
                }
            }
            if (prime) {
                count++;
            }
        }
        return count;
    }

    public static void main(String[] args) throws Exception {
        try (UseThread<Long> small = UseThread.useThread(() -> countPrimes(100_000));
             UseThread<Long> huge = UseThread.useThread(() -> countPrimes(Long.MAX_VALUE))) {
            System.out.println(small.await(Duration.ofMinutes(1)));   // FINISHED, value 9592
            huge.cancel();
            Result<Long> stopped = huge.await(Duration.ofSeconds(10)); // CANCELLED, with the agent
            System.out.println(stopped);
        }
    }
}
