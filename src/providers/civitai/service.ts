// The service this folder speaks to: the provider id, the name messages give it, and its two
// APIs (the orchestration API generates; the public site API browses models).

export const PROVIDER = 'civitai';
export const NAME = 'Civitai';
export const CIVITAI_ORCHESTRATION = 'https://orchestration.civitai.com';
export const CIVITAI_SITE_API = 'https://civitai.com/api/v1';
export const WORKFLOWS = `${CIVITAI_ORCHESTRATION}/v2/consumer/workflows`;
