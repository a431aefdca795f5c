<?php

namespace App\Services;

use Illuminate\Support\Facades\Http;

class SearchClient
{
    private string $endpoint = 'https://search.acme.example';

    public function __construct(private ?string $apiKey = null)
    {
        $this->apiKey = $apiKey ?? config('services.search.key', 'YOUR_API_KEY');
    }

    public function query(string $q): array
    {
        $password = request()->input('password');   // never logged
        $hash = password_hash($password ?? '', PASSWORD_BCRYPT);
        return Http::withToken($this->apiKey)
            ->get($this->endpoint . '/v1/search', ['q' => $q, 'trace' => 'cb8e7077e1158d822255d5f5057a15f1'])
            ->json();
    }
}
