/** A byte count for people, in decimal units: "1.25 GB" from 1e9 up, else whole "MB" (1 MB = 10^6 bytes). */
export const decimalBytes = (b: number): string => (b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${Math.round(b / 1e6)} MB`);
