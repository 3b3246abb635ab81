/**
 * The nationalities randomuser.me serves (API 1.4), with what the stand-in varies by
 * nationality: the country of `location.country` and a mobile number (`cell`) in the shape
 * randomuser.me gives for it. And how a request chooses among them, as the real API does.
 */

/** One nationality: its country name and a sample mobile number. */
export interface Nationality {
  country: string;
  cell: string;
}

/** Every nationality randomuser.me serves, by its code (what a result's `nat` says). */
export const RANDOMUSER_NATIONALITIES: Readonly<Record<string, Nationality>> = {
  AU: { country: "Australia", cell: "0412-345-678" },
  BR: { country: "Brazil", cell: "(11) 9123-4567" },
  CA: { country: "Canada", cell: "M37 A07-7196" },
  CH: { country: "Switzerland", cell: "075 418 52 46" },
  DE: { country: "Germany", cell: "0171-1234567" },
  DK: { country: "Denmark", cell: "51234567" },
  ES: { country: "Spain", cell: "612-345-678" },
  FI: { country: "Finland", cell: "041-123-45-67" },
  FR: { country: "France", cell: "06-12-34-56-78" },
  GB: { country: "United Kingdom", cell: "07123 456789" },
  IE: { country: "Ireland", cell: "081-123-4567" },
  IN: { country: "India", cell: "9123456789" },
  IR: { country: "Iran", cell: "0912-345-6789" },
  MX: { country: "Mexico", cell: "(628) 898 6943" },
  NL: { country: "Netherlands", cell: "(06) 07494249" },
  NO: { country: "Norway", cell: "48650555" },
  NZ: { country: "New Zealand", cell: "(021)-123-4567" },
  RS: { country: "Serbia", cell: "064-1234-567" },
  TR: { country: "Turkey", cell: "(578)-530-7615" },
  UA: { country: "Ukraine", cell: "(096) 123-4567" },
  US: { country: "United States", cell: "(555) 123-4567" },
};

const ALL = Object.keys(RANDOMUSER_NATIONALITIES);

/**
 * The nationalities a request asks for with `?nat=` (e.g. `gb,us`), as randomuser.me reads
 * it: comma-separated, any case, empty items skipped. Without the parameter, or when any code
 * is not one it serves, the list is ignored and every nationality may come back.
 */
export function requestedNationalities(url: URL): string[] {
  const asked = (url.searchParams.get("nat") ?? "").split(",")
    .filter((code) => code !== "").map((code) => code.toUpperCase());
  if (asked.length === 0 || asked.some((code) => !(code in RANDOMUSER_NATIONALITIES))) return ALL;
  return asked;
}
