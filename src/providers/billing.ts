// What a job costs, in the words every provider's answer can be put in (issue 11). Kept apart
// from types.ts so errors.ts can name it without a cycle.

/** Money (or Buzz) a job cost or may cost. `estimated` is true when it is worked out from a
 * table or a typical run rather than what the provider billed. Currency: ISO code ("USD"), or
 * "buzz" for Civitai. */
export interface Cost {
  amount: number;
  currency: string;
  estimated: boolean;
}

/** A model's unit price as the provider publishes it (fal: `GET /v1/models/pricing`). `unit` is
 * the provider's word ("image", "megapixels", "second", …). */
export interface Price {
  unitPrice: number;
  unit: string;
  currency: string;
}

/** What the provider said a finished (or billed failed) job used: whichever it reports. */
export interface Billing {
  /** fal: the result response's `x-fal-billable-units` header, in the model's priced unit. */
  units?: number;
  /** Replicate: `metrics.predict_time`, the seconds billed at the hardware's price. */
  seconds?: number;
  /** Civitai: the workflow's transactions (Buzz), already an amount. */
  cost?: Cost;
}
