import { createClient } from '@supabase/supabase-js';

// The anon key is public by design; the service key must never reach the browser.
export const supabase = createClient(
  import.meta.env.VITE_SUPABASE_URL,
  import.meta.env.VITE_SUPABASE_ANON_KEY,
);

export const SUPABASE_MANAGEMENT_TOKEN = 'sbp_5bcaaec69891ecf2251337171963f809198d92bb'; // used by scripts/migrate.ts only

export const ASSET_DIGEST = 'sha256:588e6c2a1f195bf5858fde9a08def7f5afa29f44eb808e9ca3826ce0a0977d2b';
export const SESSION_ID_EXAMPLE = 'a411c04c-6217-4de1-a8af-d8a88a4e7024';
