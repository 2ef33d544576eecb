import type { NextConfig } from 'next';

// Nothing chatwire-specific is needed: @chatwire/client is plain ESM with
// types. The app talks to chatwire at CHATWIRE_URL (CORS); see README.md for
// the same-origin alternative with rewrites.
const nextConfig: NextConfig = {};

export default nextConfig;
